import { z } from 'zod';
import { languages } from '../i18n';
import { RecordId, requiredText } from '../web/validation';
import type { Role } from './queries';

export const LanguageChange = z.object({ language: z.enum(languages) });
export type LanguageChange = z.infer<typeof LanguageChange>;

/** The profile's checkbox: sent as "1" when ticked, absent when not. */
export const NotificationsChange = z
  .object({ browser_notifications: z.literal('1').optional() })
  .transform((v) => ({ browser_notifications: v.browser_notifications === '1' }));
export type NotificationsChange = z.infer<typeof NotificationsChange>;

export const PasswordChange = z
  .object({
    current_password: z.string().min(1, 'validation.required').max(1024),
    new_password: z.string().min(10).max(1024),
    confirm_password: z.string().max(1024),
  })
  .refine((v) => v.new_password === v.confirm_password, { path: ['confirm_password'], message: 'profile.mismatch' })
  // The same one again changed nothing, yet said "geändert" and ended every other session.
  .refine((v) => v.new_password !== v.current_password, { path: ['new_password'], message: 'profile.samePassword', when: () => true });
export type PasswordChange = z.infer<typeof PasswordChange>;

const roles = ['admin', 'member'] as const satisfies readonly Role[];

const email = z.preprocess(
  (v) => (typeof v === 'string' ? v.trim() : v),
  z.string().min(1, 'validation.required').max(254).pipe(z.email()),
);

/** Ids are bigint serials; anything else in the URL names no employee. */
export const EmployeeId = RecordId;
export type EmployeeId = z.infer<typeof EmployeeId>;

/** An admin creates an employee with an initial password. */
export const EmployeeInput = z.object({
  name: requiredText(200),
  email,
  role: z.enum(roles),
  language: z.enum(languages),
  password: z.string().min(10).max(1024),
});
export type EmployeeInput = z.infer<typeof EmployeeInput>;

/** An admin edits an employee; a blank password leaves the old one in place. */
export const EmployeeChange = EmployeeInput.extend({
  password: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(10).max(1024).optional()),
});
export type EmployeeChange = z.infer<typeof EmployeeChange>;

/** What the edit form showed: a save changes only what the admin changed (updateEmployee). */
export const EmployeeSeen = z
  .object({ seen_name: z.string().max(200), seen_email: z.string().max(254), seen_role: z.enum(roles), seen_language: z.enum(languages) })
  .transform((v) => ({ name: v.seen_name, email: v.seen_email, role: v.seen_role, language: v.seen_language }));
export type EmployeeSeen = z.infer<typeof EmployeeSeen>;
