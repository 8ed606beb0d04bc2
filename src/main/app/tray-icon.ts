// The tray icon, drawn as a bitmap (no image files to ship or keep in sync): a disc in the
// status colour with a white glyph — a dot when idle, an arrow when uploading, "!" when the
// operator is needed. Colours also differ in brightness, for colour-blind operators.
import type { AppStatus } from '../../shared/app-status.js';

const COLOURS: Record<AppStatus, [number, number, number]> = {
  idle: [0x6b, 0x72, 0x80],
  uploading: [0x1d, 0x4e, 0xd8],
  attention: [0xd9, 0x77, 0x06],
};

/** BGRA pixels of a size×size icon (Electron's nativeImage.createFromBitmap takes this layout). */
export function trayIconBitmap(status: AppStatus, size: number): Buffer {
  const buf = Buffer.alloc(size * size * 4);
  const [r, g, b] = COLOURS[status];
  const c = (size - 1) / 2;
  const radius = size / 2;
  const put = (x: number, y: number, rgb: [number, number, number], alpha: number) => {
    const i = (y * size + x) * 4;
    buf[i] = rgb[2];
    buf[i + 1] = rgb[1];
    buf[i + 2] = rgb[0];
    buf[i + 3] = Math.round(alpha * 255);
  };
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x - c, y - c);
      // One pixel of anti-aliasing at the rim.
      const alpha = Math.max(0, Math.min(1, radius - d));
      if (alpha > 0) put(x, y, [r, g, b], alpha);
      if (glyph(status, (x - c) / radius, (y - c) / radius)) put(x, y, [255, 255, 255], 1);
    }
  }
  return buf;
}

/** Whether the point (u, v in -1..1) belongs to the glyph. */
function glyph(status: AppStatus, u: number, v: number): boolean {
  if (status === 'idle') return Math.hypot(u, v) < 0.28;
  if (status === 'attention') return Math.abs(u) < 0.13 && ((v > -0.6 && v < 0.2) || (v > 0.35 && v < 0.6));
  // Up arrow: a shaft and a head.
  const shaft = Math.abs(u) < 0.12 && v > -0.2 && v < 0.6;
  const head = v > -0.62 && v < -0.05 && Math.abs(u) < (v + 0.62) * 0.95;
  return shaft || head;
}
