import sharp from 'sharp';
import multer from 'multer';
import { Invalid } from '../web/errors';

export const MAX_PICTURE_BYTES = 5 * 1024 * 1024;
const SIZE = 256;

/** Uploads stay in memory (at most 5 MB) and go into PostgreSQL, so every app instance serves them. */
export const pictureUpload = multer({
  storage: multer.memoryStorage(),
  limits: { fileSize: MAX_PICTURE_BYTES, files: 1, fields: 5 },
});

/**
 * Checks that the bytes really are a JPEG, PNG or WebP image (whatever the file
 * name or browser claims) and turns them into a small square WebP.
 */
export async function processPicture(upload: Buffer): Promise<{ data: Buffer; contentType: string }> {
  let format: string | undefined;
  try {
    format = (await sharp(upload, { limitInputPixels: 40_000_000 }).metadata()).format;
  } catch {
    throw new Invalid({ picture: 'contacts.picture.invalid' });
  }
  if (!format || !['jpeg', 'png', 'webp'].includes(format)) throw new Invalid({ picture: 'contacts.picture.invalid' });
  try {
    const data = await sharp(upload, { limitInputPixels: 40_000_000 })
      .rotate()
      .resize(SIZE, SIZE, { fit: 'cover', position: 'attention' })
      .webp({ quality: 80 })
      .toBuffer();
    return { data, contentType: 'image/webp' };
  } catch {
    throw new Invalid({ picture: 'contacts.picture.invalid' });
  }
}
