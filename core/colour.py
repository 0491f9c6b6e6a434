"""Which YUV <-> RGB matrix a video is decoded and encoded with, and the colour tags of the
output, so that a stylized video's colours sit where the input's do in every player.

The reader turns the input's YUV into RGB with the input's own matrix; the writer turns the
stylized RGB back with the same matrix and tags the output with it and limited range, and
with the input's primaries and transfer where the input names them. An input that names no
matrix is taken as players take it: BT.709 from 720 lines or 1280 columns up (HD), else
BT.601. Without this, FFmpeg's default BT.601 untagged output plays with visibly shifted
colours at HD sizes, where players assume BT.709.
"""
from dataclasses import dataclass, replace

# AVColorSpace, AVColorPrimaries and AVColorTransferCharacteristic values (FFmpeg's pixfmt.h)
BT709, SMPTE170M = 1, 6
# the matrices swscale converts with (av.video.reformatter.Colorspace), by the AVColorSpace
# that names them: SMPTE 170M is BT.601's matrix, and constant-luminance BT.2020 is
# converted as the non-constant one, the nearest swscale has
SWSCALE_MATRIX = {1: 1, 4: 4, 5: 5, 6: 5, 7: 7, 9: 9, 10: 9}
LIMITED_RANGE, FULL_RANGE = 1, 2  # AVColorRange: MPEG (16-235), JPEG (0-255)
RGB = 0  # AVColorSpace of a picture stored as RGB (PNG, FFV1's bgr0, VP9's gbrp)


def is_hd(width: int, height: int) -> bool:
    return height >= 720 or width >= 1280


@dataclass(frozen=True)
class Colour:
    matrix: int     # AVColorSpace the input was decoded with, one of SWSCALE_MATRIX
    primaries: int  # AVColorPrimaries: the input's (2 where it names none)
    transfer: int   # AVColorTransferCharacteristic: the input's, likewise

    @classmethod
    def of(cls, stream) -> "Colour":
        """The colour of a video stream, as its codec parameters state or players assume."""
        context = stream.codec_context
        assumed = BT709 if is_hd(context.width, context.height) else SMPTE170M
        matrix = context.colorspace if context.colorspace in SWSCALE_MATRIX else assumed
        return cls(matrix, context.color_primaries, context.color_trc)

    def written_as(self, pixel_format: str) -> "Colour":
        """The colour an output in `pixel_format` is written with: this one, but BT.601 for
        JPEG's YUV (MJPEG), which JFIF defines so and decoders read so whatever the tags say."""
        return replace(self, matrix=SMPTE170M) if pixel_format.startswith("yuvj") else self

    @property
    def swscale_matrix(self) -> int:
        return SWSCALE_MATRIX[self.matrix]

    def tag(self, codec_context) -> None:
        """Tag an encoder's output with this colour: YUV with this matrix in limited range (or
        full, for the JPEG formats), RGB as RGB in full range."""
        codec_context.colorspace = RGB if is_rgb(codec_context.pix_fmt) else self.matrix
        codec_context.color_range = value_range(codec_context.pix_fmt)
        codec_context.color_primaries, codec_context.color_trc = self.primaries, self.transfer


def is_rgb(pixel_format: str) -> bool:
    import av

    return av.VideoFormat(pixel_format).is_rgb


def value_range(pixel_format: str) -> int:
    """The range of the values a pixel format stores: full for RGB and FFmpeg's JPEG YUV."""
    return FULL_RANGE if is_rgb(pixel_format) or pixel_format.startswith("yuvj") else LIMITED_RANGE
