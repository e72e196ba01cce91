import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FewshotError } from '../src/errors.js';

/** One class of an image folder: its name and the image paths, sorted so episodes are reproducible. */
export interface ImageClass {
  name: string;
  items: string[];
}

const IMAGE_FILE = /\.(jpe?g|png)$/i;

/**
 * Reads a folder of class folders: `DIR/<class>/*.jpg|png`, or `DIR/images/<class>/...` (the layout of
 * `../shared/datasets`). Classes without images are skipped.
 * @throws FewshotError `NOT_FOUND` when the folder holds no class folder with images.
 */
export function scanImageClasses(dir: string): ImageClass[] {
  const root = isDirectory(join(dir, 'images')) ? join(dir, 'images') : dir;
  if (!isDirectory(root)) throw new FewshotError('NOT_FOUND', `No such folder: ${dir}`);
  const classes = readdirSync(root)
    .filter((name) => isDirectory(join(root, name)))
    .sort()
    .map((name) => ({
      name,
      items: readdirSync(join(root, name))
        .filter((file) => IMAGE_FILE.test(file))
        .sort()
        .map((file) => join(root, name, file)),
    }))
    .filter((c) => c.items.length > 0);
  if (classes.length === 0) {
    throw new FewshotError('NOT_FOUND', `${dir} has no class folders with .jpg/.png images (expected DIR/<class>/*.jpg).`);
  }
  return classes;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
