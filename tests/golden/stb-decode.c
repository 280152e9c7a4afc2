/*
 * Golden-data helper (run by make-golden.sh only, never by the tests):
 * decodes an image with Debian's stb, the decoder lib/image uses, and writes
 * the RGB8 pixels as PNG, so that the TensorFlow.js harness and libfaceswap
 * see exactly the same pixels. Also writes the packed RGB8 rows as a binary
 * PPM, whose sha256 golden-convert.py puts in the golden file's `image` line
 * after checking the harness decoded the same bytes. Prints "WIDTH HEIGHT
 * CHANNELS_IN_FILE".
 *
 * usage: stb-decode IN OUT.png OUT.ppm
 */
#include <stdio.h>
#include <stdlib.h>
#include <stb_image.h>
#include <stb_image_write.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s IN OUT.png OUT.ppm\n", argv[0]);
        return 2;
    }
    int w = 0, h = 0, n = 0;
    unsigned char *const px = stbi_load(argv[1], &w, &h, &n, 3);
    if (!px) {
        fprintf(stderr, "%s: %s\n", argv[1], stbi_failure_reason());
        return 1;
    }
    int ok = stbi_write_png(argv[2], w, h, 3, px, w * 3) != 0;
    FILE *const f = fopen(argv[3], "wb");
    if (f) {
        /* The PPM body is the packed RGB8 rows: its tail is what the
         * golden files' sha256 covers. */
        ok = ok && fprintf(f, "P6\n%d %d\n255\n", w, h) > 0
                && fwrite(px, 3, (size_t)w * (size_t)h, f) == (size_t)w * (size_t)h;
        ok = (fclose(f) == 0) && ok;
    } else {
        ok = 0;
    }
    stbi_image_free(px);
    if (!ok) {
        fprintf(stderr, "cannot write %s / %s\n", argv[2], argv[3]);
        return 1;
    }
    printf("%d %d %d\n", w, h, n);
    return 0;
}
