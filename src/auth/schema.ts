import { z } from 'zod';

export const LoginInput = z.object({
  email: z.preprocess((v) => (typeof v === 'string' ? v.trim() : v), z.string().min(1, 'validation.required').max(254)),
  password: z.string().min(1, 'validation.required').max(1024),
  next: z.string().max(2000).optional(),
});
export type LoginInput = z.infer<typeof LoginInput>;
