import type { Language, Translate } from './i18n';
import type { CurrentUser } from './users/queries';

declare module 'express-session' {
  interface SessionData {
    userId?: string;
    /** When the employee logged in: sessions end 12 h later, however active. */
    loginAt?: number;
    /** Last request that was the employee's own doing (not a background poll), for the 30-minute idle logout. */
    lastActiveAt?: number;
    flash?: { text: string; kind: 'success' | 'error' }[];
    selection?: import('./contacts/selection').Selection;
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
