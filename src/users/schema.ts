import { z } from 'zod';
import { languages } from '../i18n';

export const LanguageChange = z.object({ language: z.enum(languages) });
export type LanguageChange = z.infer<typeof LanguageChange>;

export const PasswordChange = z
  .object({
    current_password: z.string().min(1, 'validation.required').max(1024),
    new_password: z.string().min(10).max(1024),
    confirm_password: z.string().max(1024),
  })
  .refine((v) => v.new_password === v.confirm_password, { path: ['confirm_password'], message: 'profile.mismatch' });
export type PasswordChange = z.infer<typeof PasswordChange>;
