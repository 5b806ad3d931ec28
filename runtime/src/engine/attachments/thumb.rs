/*!
Thumbnails of photos for the console: at most [`THUMB_SIDE`] pixels on the long side, upright
(the EXIF orientation applied), JPEG. Decoding is bounded ([`limits`]) so a small file that
claims a huge picture (a decompression bomb) is refused instead of exhausting memory.
*/

use std::io::Cursor;

use image::{ImageDecoder, ImageReader, Limits};

use super::sniff::FileType;

/// Long side of a thumbnail, in pixels.
pub const THUMB_SIDE: u32 = 320;

/// What decoding may take: 12,000 px on a side (a 100-megapixel phone camera is 12,240 × 8,160)
/// and 512 MiB.
fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(12_288);
    l.max_image_height = Some(12_288);
    l.max_alloc = Some(512 * 1024 * 1024);
    l
}

/// A photo's size and its thumbnail.
#[derive(Debug, Clone)]
pub struct Thumbnail {
    pub width: u32,
    pub height: u32,
    pub jpeg: Vec<u8>,
}

/// Decodes `bytes` (of type `ty`, an image) and renders its thumbnail; `Err` says why the file is
/// not a readable picture.
pub fn thumbnail(ty: FileType, bytes: &[u8]) -> Result<Thumbnail, String> {
    let format = match ty {
        FileType::Jpeg => image::ImageFormat::Jpeg,
        FileType::Png => image::ImageFormat::Png,
        FileType::Webp => image::ImageFormat::WebP,
        FileType::Pdf => return Err("not an image".into()),
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits());
    let mut decoder = reader.into_decoder().map_err(|e| e.to_string())?;
    let orientation = decoder.orientation().map_err(|e| e.to_string())?;
    let mut img = image::DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?;
    img.apply_orientation(orientation);
    let (width, height) = (img.width(), img.height());
    let small = img.thumbnail(THUMB_SIDE, THUMB_SIDE).into_rgb8();
    let mut out = Cursor::new(Vec::new());
    small
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .map_err(|e| e.to_string())?;
    Ok(Thumbnail {
        width,
        height,
        jpeg: out.into_inner(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_are_small_upright_jpegs() {
        let img = image::RgbImage::from_pixel(800, 400, image::Rgb([200, 10, 10]));
        let mut png = Cursor::new(Vec::new());
        img.write_to(&mut png, image::ImageFormat::Png).unwrap();
        let t = thumbnail(FileType::Png, png.get_ref()).unwrap();
        assert_eq!((t.width, t.height), (800, 400));
        let back = image::load_from_memory(&t.jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (320, 160));
        assert!(t.jpeg.starts_with(&[0xFF, 0xD8, 0xFF]));
        // Orientation 6 (rotate 90° clockwise) makes a landscape JPEG a portrait thumbnail.
        let jpeg = super::super::strip::tests::with_gps(&super::super::strip::tests::small_jpeg());
        let t = thumbnail(FileType::Jpeg, &jpeg).unwrap();
        let back = image::load_from_memory(&t.jpeg).unwrap();
        assert!(
            back.height() > back.width(),
            "{}x{}",
            back.width(),
            back.height()
        );
        // A file that only starts like a picture is refused.
        assert!(thumbnail(FileType::Png, b"\x89PNG\r\n\x1a\nbroken").is_err());
    }
}
