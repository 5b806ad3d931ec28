/*!
Location metadata out of photos before they are stored.

A phone writes where a photo was taken into its EXIF GPS tags (and sometimes into XMP). Citizens
and the Open311 public must never learn a reporter's doorstep from a picture, and the case
already carries the place staff need (its address, grid unit and coordinates), so the kit strips
**always**: only the stripped copy is stored, and nobody — staff included — downloads the
original. One copy means one rule and nothing to leak by a role mistake.

What is removed, without re-encoding the picture (no quality lost, and the same upload always
gives the same bytes, so the content address stays the idempotency key):

- JPEG: the GPS IFD of the EXIF segment is emptied in place (its entries and their values
  zeroed), so the orientation, the camera and the time stay; XMP segments are dropped whole.
- PNG: the `eXIf` chunk and the text chunks (`tEXt`, `zTXt`, `iTXt`, where XMP lives).
- WebP: the `EXIF` and `XMP ` chunks, with the RIFF size and the VP8X flags set to match.

PDF documents are stored as uploaded (they are documents the uploader chose to attach; what they
say is their content).
*/

use super::sniff::FileType;

/// Why a file could not be read as the format its magic number claims.
pub type Malformed = &'static str;

/// The bytes to store for an upload of type `ty`: photos without location metadata.
pub fn strip_location(ty: FileType, bytes: &[u8]) -> Result<Vec<u8>, Malformed> {
    match ty {
        FileType::Jpeg => strip_jpeg(bytes),
        FileType::Png => strip_png(bytes),
        FileType::Webp => strip_webp(bytes),
        FileType::Pdf => Ok(bytes.to_vec()),
    }
}

const EXIF_HEADER: &[u8] = b"Exif\0\0";
const XMP_HEADERS: [&[u8]; 2] = [
    b"http://ns.adobe.com/xap/1.0/\0",
    b"http://ns.adobe.com/xmp/extension/\0",
];

fn strip_jpeg(b: &[u8]) -> Result<Vec<u8>, Malformed> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..2]);
    let mut pos = 2;
    loop {
        if pos + 2 > b.len() || b[pos] != 0xFF {
            return Err("JPEG segment expected");
        }
        let marker = b[pos + 1];
        if marker == 0xFF {
            // Fill byte before a marker.
            pos += 1;
            continue;
        }
        if marker == 0xDA || marker == 0xD9 {
            // Start of scan (the picture itself, to the end) or end of image.
            out.extend_from_slice(&b[pos..]);
            return Ok(out);
        }
        if (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
            out.extend_from_slice(&b[pos..pos + 2]);
            pos += 2;
            continue;
        }
        if pos + 4 > b.len() {
            return Err("JPEG segment truncated");
        }
        let len = usize::from(u16::from_be_bytes([b[pos + 2], b[pos + 3]]));
        let end = pos + 2 + len;
        if len < 2 || end > b.len() {
            return Err("JPEG segment truncated");
        }
        let payload = &b[pos + 4..end];
        if marker == 0xE1 && XMP_HEADERS.iter().any(|h| payload.starts_with(h)) {
            // XMP may carry exif:GPSLatitude …: dropped whole.
        } else if marker == 0xE1 && payload.starts_with(EXIF_HEADER) {
            let mut seg = b[pos..end].to_vec();
            empty_gps_ifd(&mut seg[4 + EXIF_HEADER.len()..])?;
            out.extend_from_slice(&seg);
        } else {
            out.extend_from_slice(&b[pos..end]);
        }
        pos = end;
    }
}

/// The TIFF structure inside an EXIF block, read in its own byte order.
struct Tiff<'a> {
    t: &'a mut [u8],
    little: bool,
}

impl Tiff<'_> {
    fn u16(&self, at: usize) -> Option<u16> {
        let s = self.t.get(at..at + 2)?;
        Some(if self.little {
            u16::from_le_bytes([s[0], s[1]])
        } else {
            u16::from_be_bytes([s[0], s[1]])
        })
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let s = self.t.get(at..at + 4)?;
        let a = [s[0], s[1], s[2], s[3]];
        Some(if self.little {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    }

    fn zero(&mut self, from: usize, len: usize) -> Option<()> {
        self.t.get_mut(from..from.checked_add(len)?)?.fill(0);
        Some(())
    }
}

/// Bytes per value of a TIFF field type (unknown types count as 1: only their inline part is
/// cleared, which is all a reader could find of them anyway).
fn type_size(ty: u16) -> usize {
    match ty {
        3 | 8 => 2,
        4 | 9 | 11 => 4,
        5 | 10 | 12 => 8,
        _ => 1,
    }
}

const GPS_IFD_TAG: u16 = 0x8825;

/// Empties the GPS IFD of a TIFF block in place: every entry and every value it points to is
/// zeroed and its entry count set to 0. A block without GPS is left as it is.
fn empty_gps_ifd(t: &mut [u8]) -> Result<(), Malformed> {
    const BAD: Malformed = "EXIF block malformed";
    let little = match t.get(..2) {
        Some(b"II") => true,
        Some(b"MM") => false,
        _ => return Err(BAD),
    };
    let mut tiff = Tiff { t, little };
    if tiff.u16(2) != Some(42) {
        return Err(BAD);
    }
    let ifd0 = tiff.u32(4).ok_or(BAD)? as usize;
    let n = usize::from(tiff.u16(ifd0).ok_or(BAD)?);
    let gps = (0..n)
        .map(|i| ifd0 + 2 + 12 * i)
        .find(|&e| tiff.u16(e) == Some(GPS_IFD_TAG))
        .map(|e| tiff.u32(e + 8).ok_or(BAD))
        .transpose()?;
    let Some(gps) = gps.map(|g| g as usize) else {
        return Ok(());
    };
    let m = usize::from(tiff.u16(gps).ok_or(BAD)?);
    for j in 0..m {
        let e = gps + 2 + 12 * j;
        let ty = tiff.u16(e + 2).ok_or(BAD)?;
        let count = tiff.u32(e + 4).ok_or(BAD)? as usize;
        let size = type_size(ty).saturating_mul(count);
        if size > 4 {
            let off = tiff.u32(e + 8).ok_or(BAD)? as usize;
            tiff.zero(off, size).ok_or(BAD)?;
        }
    }
    // The entries, the count and the next-IFD link after them.
    tiff.zero(gps, 2 + 12 * m + 4).ok_or(BAD)?;
    Ok(())
}

fn strip_png(b: &[u8]) -> Result<Vec<u8>, Malformed> {
    const BAD: Malformed = "PNG chunk truncated";
    let mut out = b[..8].to_vec();
    let mut pos = 8;
    while pos < b.len() {
        let head = b.get(pos..pos + 8).ok_or(BAD)?;
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let end = pos
            .checked_add(12)
            .and_then(|p| p.checked_add(len))
            .filter(|&e| e <= b.len())
            .ok_or(BAD)?;
        let kind = &head[4..8];
        if !matches!(kind, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt") {
            out.extend_from_slice(&b[pos..end]);
        }
        pos = end;
        if kind == b"IEND" {
            break;
        }
    }
    Ok(out)
}

fn strip_webp(b: &[u8]) -> Result<Vec<u8>, Malformed> {
    const BAD: Malformed = "WebP chunk truncated";
    let mut out = b[..12].to_vec();
    let mut pos = 12;
    let mut vp8x_flags_at = None;
    while pos + 8 <= b.len() {
        let len = u32::from_le_bytes([b[pos + 4], b[pos + 5], b[pos + 6], b[pos + 7]]) as usize;
        let padded = len + (len & 1);
        let end = (pos + 8)
            .checked_add(padded)
            .filter(|&e| e <= b.len())
            .ok_or(BAD)?;
        let kind = &b[pos..pos + 4];
        if kind == b"VP8X" {
            vp8x_flags_at = Some(out.len() + 8);
        }
        if !matches!(kind, b"EXIF" | b"XMP ") {
            out.extend_from_slice(&b[pos..end]);
        }
        pos = end;
    }
    if pos != b.len() {
        return Err(BAD);
    }
    if let Some(at) = vp8x_flags_at
        && let Some(flags) = out.get_mut(at)
    {
        // VP8X: bit 3 says EXIF follows, bit 2 XMP.
        *flags &= !(0x08 | 0x04);
    }
    let riff = u32::try_from(out.len() - 8).map_err(|_| BAD)?;
    out[4..8].copy_from_slice(&riff.to_le_bytes());
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A big-endian TIFF block: IFD0 with Orientation = 6 and a GPS IFD pointer; the GPS IFD with
    /// GPSLatitudeRef "N" (inline) and GPSLatitude 26/1 20/1 1234/100 (out of line).
    pub(crate) fn exif_with_gps() -> Vec<u8> {
        let mut t = Vec::new();
        t.extend_from_slice(b"MM\0\x2a\0\0\0\x08");
        // IFD0 at 8: 2 entries.
        t.extend_from_slice(&2u16.to_be_bytes());
        t.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]);
        let gps_at: u32 = 8 + 2 + 24 + 4;
        t.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1]);
        t.extend_from_slice(&gps_at.to_be_bytes());
        t.extend_from_slice(&0u32.to_be_bytes());
        // GPS IFD: 2 entries, then the latitude's rationals.
        let lat_at: u32 = gps_at + 2 + 24 + 4;
        t.extend_from_slice(&2u16.to_be_bytes());
        t.extend_from_slice(&[0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]);
        t.extend_from_slice(&[0, 2, 0, 5, 0, 0, 0, 3]);
        t.extend_from_slice(&lat_at.to_be_bytes());
        t.extend_from_slice(&0u32.to_be_bytes());
        for (n, d) in [(26u32, 1u32), (20, 1), (1234, 100)] {
            t.extend_from_slice(&n.to_be_bytes());
            t.extend_from_slice(&d.to_be_bytes());
        }
        t
    }

    const XMP_BODY: &[u8] = b"<x:xmpmeta><exif:GPSLatitude>26,20.2N</exif:GPSLatitude>";

    /// `jpeg` with an EXIF segment (GPS inside) and an XMP segment inserted after SOI.
    pub(crate) fn with_gps(jpeg: &[u8]) -> Vec<u8> {
        let mut exif = EXIF_HEADER.to_vec();
        exif.extend(exif_with_gps());
        let mut xmp = XMP_HEADERS[0].to_vec();
        xmp.extend_from_slice(XMP_BODY);
        let mut out = jpeg[..2].to_vec();
        for (marker, payload) in [(0xE1u8, &exif), (0xE1, &xmp)] {
            out.extend_from_slice(&[0xFF, marker]);
            out.extend_from_slice(&(payload.len() as u16 + 2).to_be_bytes());
            out.extend_from_slice(payload);
        }
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    pub(crate) fn small_jpeg() -> Vec<u8> {
        let img =
            image::RgbImage::from_fn(16, 12, |x, y| image::Rgb([x as u8 * 16, y as u8 * 20, 90]));
        let mut buf = std::io::Cursor::new(Vec::new());
        img.write_to(&mut buf, image::ImageFormat::Jpeg).unwrap();
        buf.into_inner()
    }

    fn find(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn gps_leaves_a_jpeg_and_the_rest_stays() {
        let original = with_gps(&small_jpeg());
        let lat = [0, 0, 0, 26, 0, 0, 0, 1, 0, 0, 0, 20];
        assert!(find(&original, &lat) && find(&original, b"GPSLatitude"));
        let stripped = strip_location(FileType::Jpeg, &original).unwrap();
        assert!(!find(&stripped, &lat), "the latitude is still there");
        assert!(!find(&stripped, b"GPSLatitude"), "the XMP is still there");
        // The EXIF block stays, with its orientation and an empty GPS IFD.
        let exif_at = stripped
            .windows(EXIF_HEADER.len())
            .position(|w| w == EXIF_HEADER)
            .unwrap();
        let tiff = &stripped[exif_at + EXIF_HEADER.len()..];
        assert_eq!(&tiff[10..22], &[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]);
        let gps_at = u32::from_be_bytes([tiff[30], tiff[31], tiff[32], tiff[33]]) as usize;
        assert_eq!(&tiff[gps_at..gps_at + 2], &[0, 0]);
        // Same length (values zeroed in place), still a picture, and stripping is stable.
        assert_eq!(
            stripped.len(),
            original.len() - (4 + XMP_HEADERS[0].len() + XMP_BODY.len())
        );
        image::load_from_memory(&stripped).unwrap();
        assert_eq!(strip_location(FileType::Jpeg, &stripped).unwrap(), stripped);
        // A JPEG without EXIF is unchanged.
        let plain = small_jpeg();
        assert_eq!(strip_location(FileType::Jpeg, &plain).unwrap(), plain);
        // A broken one is refused, not stored.
        assert!(strip_location(FileType::Jpeg, &original[..40]).is_err());
    }

    #[test]
    fn png_and_webp_lose_their_metadata_chunks() {
        let img = image::RgbImage::from_pixel(4, 4, image::Rgb([1, 2, 3]));
        let mut buf = std::io::Cursor::new(Vec::new());
        img.write_to(&mut buf, image::ImageFormat::Png).unwrap();
        let png = buf.into_inner();
        // Insert an eXIf chunk after IHDR (8 + 25 bytes).
        let exif = exif_with_gps();
        let mut with = png[..33].to_vec();
        with.extend_from_slice(&(exif.len() as u32).to_be_bytes());
        with.extend_from_slice(b"eXIf");
        with.extend_from_slice(&exif);
        with.extend_from_slice(&[0, 0, 0, 0]);
        with.extend_from_slice(&png[33..]);
        assert_eq!(strip_location(FileType::Png, &with).unwrap(), png);

        // WebP: VP8X with the EXIF flag, an EXIF chunk, then the (here fake) image chunk.
        let mut webp = b"RIFF\0\0\0\0WEBP".to_vec();
        webp.extend_from_slice(b"VP8X\x0a\0\0\0\x08\0\0\0\0\0\0\0\0\0");
        webp.extend_from_slice(b"EXIF");
        webp.extend_from_slice(&(exif.len() as u32).to_le_bytes());
        webp.extend_from_slice(&exif);
        webp.extend_from_slice(b"VP8L\x01\0\0\0\x2f\0");
        let n = (webp.len() - 8) as u32;
        webp[4..8].copy_from_slice(&n.to_le_bytes());
        let out = strip_location(FileType::Webp, &webp).unwrap();
        assert!(!find(&out, b"EXIF"));
        assert_eq!(out[20], 0, "the EXIF flag is cleared");
        assert_eq!(
            u32::from_le_bytes([out[4], out[5], out[6], out[7]]) as usize,
            out.len() - 8
        );
    }
}
