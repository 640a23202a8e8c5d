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

/** Decoded, a picture of more pixels than this (40 megapixels, 160 MB in memory) is refused, however small its file. */
const MAX_PICTURE_PIXELS = 40_000_000;

/**
 * Checks that the bytes really are a JPEG, PNG or WebP image (whatever the file
 * name or browser claims) and turns them into a small square WebP.
 */
export async function processPicture(upload: Buffer): Promise<{ data: Buffer; contentType: string }> {
  let format: string | undefined;
  let pixels = 0;
  try {
    // The header alone (no pixel limit applies to reading it): a picture too large is told as such, not as "no picture".
    const metadata = await sharp(upload, { limitInputPixels: false }).metadata();
    format = metadata.format;
    pixels = (metadata.width ?? 0) * (metadata.height ?? 0);
  } catch {
    throw new Invalid({ picture: 'contacts.picture.invalid' });
  }
  if (!format || !['jpeg', 'png', 'webp'].includes(format)) throw new Invalid({ picture: 'contacts.picture.invalid' });
  if (pixels > MAX_PICTURE_PIXELS) throw new Invalid({ picture: 'contacts.picture.tooManyPixels' });
  try {
    const data = await sharp(upload, { limitInputPixels: MAX_PICTURE_PIXELS })
      .rotate()
      .resize(SIZE, SIZE, { fit: 'cover', position: 'attention' })
      .webp({ quality: 80 })
      .toBuffer();
    return { data, contentType: 'image/webp' };
  } catch {
    throw new Invalid({ picture: 'contacts.picture.invalid' });
  }
}
