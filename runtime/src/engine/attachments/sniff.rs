/*!
What a file is, by its first bytes — never by its name or the client's `Content-Type`, which
anyone can set. Only the formats the kit stores are recognised: JPEG, PNG and WebP photos, PDF
documents. Anything else is refused before it is stored.
*/

/// A stored file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Jpeg,
    Png,
    Webp,
    Pdf,
}

impl FileType {
    /// The MIME type the file is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
            FileType::Webp => "image/webp",
            FileType::Pdf => "application/pdf",
        }
    }

    /// The file name extension (for names without one, and public URLs).
    pub fn extension(self) -> &'static str {
        match self {
            FileType::Jpeg => "jpg",
            FileType::Png => "png",
            FileType::Webp => "webp",
            FileType::Pdf => "pdf",
        }
    }

    /// Photos get thumbnails and may be public; documents are downloaded as they are.
    pub fn is_image(self) -> bool {
        !matches!(self, FileType::Pdf)
    }

    /// The type a stored content type names.
    pub fn from_content_type(ct: &str) -> Option<FileType> {
        [FileType::Jpeg, FileType::Png, FileType::Webp, FileType::Pdf]
            .into_iter()
            .find(|t| t.content_type() == ct)
    }
}

/// The format of `bytes` by its magic number, or `None` when it is none the kit stores.
pub fn sniff(bytes: &[u8]) -> Option<FileType> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(FileType::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(FileType::Png)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(FileType::Webp)
    } else if bytes.starts_with(b"%PDF-") {
        Some(FileType::Pdf)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_their_first_bytes() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(FileType::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(FileType::Png));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some(FileType::Webp));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some(FileType::Pdf));
        // A name or a claimed type changes nothing: HTML, a script, an executable, a GIF, a
        // truncated header and an empty file are refused.
        for bad in [
            &b"<html><script>alert(1)</script>"[..],
            b"#!/bin/sh\n",
            b"MZ\x90\0",
            b"GIF89a",
            b"RIFF\x10\0\0\0WAVE",
            b"\xFF\xD8",
            b"",
        ] {
            assert_eq!(sniff(bad), None, "{bad:?}");
        }
        assert_eq!(
            FileType::from_content_type("image/webp"),
            Some(FileType::Webp)
        );
        assert!(!FileType::Pdf.is_image());
    }
}
