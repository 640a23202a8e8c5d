import { z } from 'zod';

export const LoginInput = z.object({
  email: z.preprocess((v) => (typeof v === 'string' ? v.trim() : v), z.string().min(1, 'validation.required').max(254)),
  password: z.string().min(1, 'validation.required').max(1024),
  // Where to go after logging in: the app's own address of the page asked for (a list's filters can make it
  // long). It is no input of the employee's: one that is unusable is dropped (the start page), never the login refused.
  next: z.string().max(16_000).optional().catch(undefined),
});
export type LoginInput = z.infer<typeof LoginInput>;
