import type { Language, Translate } from './i18n';
import type { CurrentUser } from './users/queries';

declare module 'express-session' {
  interface SessionData {
    userId?: string;
    /** When the employee logged in: sessions end 12 h later, however active. */
    loginAt?: number;
    flash?: { text: string; kind: 'success' | 'error' }[];
  }
}

declare global {
  namespace Express {
    interface Request {
      user?: CurrentUser;
      language: Language;
      t: Translate;
    }
  }
}

export {};
