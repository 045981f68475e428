/**
 * QR codes of sealed documents. The QR text is `KSTB1:` (跨省通办, format 1)
 * followed by the compact JWS: the prefix lets a scanning app tell our
 * documents from any other QR code before it tries to verify, and versions
 * the wire format. It is printed in byte mode; at error-correction level M
 * (15 % of the symbol may be damaged or covered by a stamp) a version-40
 * symbol holds 2331 bytes, which is therefore the limit of a document.
 */
import QRCode from 'qrcode';

/** Prefix of a document's QR text. */
export const QR_TEXT_PREFIX = 'KSTB1:';

/** Error-correction level of every document QR code. */
export const QR_ERROR_CORRECTION_LEVEL = 'M';

/** Byte-mode capacity of a version-40 QR symbol at level M (ISO/IEC 18004 table 7). */
export const QR_MAX_BYTES = 2331;

/** The QR text of a token. */
export function toQrText(token: string): string {
  return `${QR_TEXT_PREFIX}${token}`;
}

/** Output formats of {@link renderQr}. */
export type QrImageFormat = 'png-data-url' | 'svg';

/** Options of {@link renderQr}. */
export interface RenderQrOptions {
  /** `png-data-url` (`data:image/png;base64,…`, for a web page or a PDF) or `svg` (the SVG document as text). */
  format: QrImageFormat;
  /** Quiet zone in modules; default 4, the minimum of ISO/IEC 18004 (less and phones misread). */
  margin?: number;
  /** Pixels per module of the PNG; default 4. Ignored for SVG, which scales. */
  scale?: number;
}

interface NormalizedRenderQrOptions {
  format: QrImageFormat;
  margin: number;
  scale: number;
}

/** Fills defaults and checks the options, throwing a TypeError naming the bad one. */
export function normalizeRenderQrOptions(options: RenderQrOptions): NormalizedRenderQrOptions {
  const format = options?.format;
  if (format !== 'png-data-url' && format !== 'svg')
    throw new TypeError(`renderQr: format must be 'png-data-url' or 'svg', got ${JSON.stringify(format)}`);
  const margin = options.margin ?? 4;
  if (!Number.isInteger(margin) || margin < 4 || margin > 16)
    throw new TypeError(`renderQr: margin must be a whole number of modules from 4 to 16, got ${margin}`);
  const scale = options.scale ?? 4;
  if (!Number.isInteger(scale) || scale < 1 || scale > 32) throw new TypeError(`renderQr: scale must be a whole number from 1 to 32, got ${scale}`);
  return { format, margin, scale };
}

/**
 * Renders a QR text as an image, at level M in byte mode.
 *
 * @throws {TypeError} for bad options, or a text longer than {@link QR_MAX_BYTES}.
 */
export async function renderQr(qrText: string, options: RenderQrOptions): Promise<string> {
  const { format, margin, scale } = normalizeRenderQrOptions(options);
  if (typeof qrText !== 'string' || qrText === '') throw new TypeError('renderQr: qrText must be a non-empty string');
  if (Buffer.byteLength(qrText, 'utf8') > QR_MAX_BYTES)
    throw new TypeError(`renderQr: qrText is longer than the ${QR_MAX_BYTES} bytes a QR code holds at level M`);
  // One byte-mode segment: the auto-segmenter could mix modes, which gains nothing on base64url.
  const segments = [{ data: Buffer.from(qrText, 'utf8'), mode: 'byte' as const }];
  if (format === 'svg') return QRCode.toString(segments, { type: 'svg', errorCorrectionLevel: QR_ERROR_CORRECTION_LEVEL, margin });
  return QRCode.toDataURL(segments, { type: 'image/png', errorCorrectionLevel: QR_ERROR_CORRECTION_LEVEL, margin, scale });
}

/** Smallest QR version (1–40) that holds `qrText` at level M, or null when none does. */
export function qrVersionOf(qrText: string): number | null {
  try {
    return QRCode.create([{ data: Buffer.from(qrText, 'utf8'), mode: 'byte' }], { errorCorrectionLevel: QR_ERROR_CORRECTION_LEVEL }).version;
  } catch {
    return null;
  }
}
