/*
 * test_errors: the error paths of the C API (NULL handles and pointers, zero sizes, bad strides,
 * overflowing sizes, bad options and models, undersized output arrays with retry) and the
 * last-error convention. Also checks that padded strides and BGR input give the same faces as
 * packed RGB.
 *
 *     test_errors IMAGE_WITH_A_FACE NOT_AN_IMAGE
 *
 * Prints one line per failed check, then "N passed, M failed"; exits 1 if any check failed.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emotion.h"

static int passed, failed;

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (cond) {                                                                          \
            passed++;                                                                        \
        } else {                                                                             \
            failed++;                                                                        \
            fprintf(stderr, "%s:%d: FAILED: %s (last error: \"%s\")\n", __FILE__, __LINE__, \
                    #cond, emotion_last_error_message());                                    \
        }                                                                                    \
    } while (0)

/* The call returned `expected`, and the last error message is set exactly when it failed. */
#define CHECK_STATUS(call, expected)                                                        \
    do {                                                                                    \
        emotion_status s_ = (call);                                                         \
        const char *m_ = emotion_last_error_message();                                      \
        if (s_ == (expected) && m_ != NULL && ((expected) == EMOTION_OK) == (m_[0] == 0)) { \
            passed++;                                                                       \
        } else {                                                                            \
            failed++;                                                                       \
            fprintf(stderr, "%s:%d: FAILED: %s returned %s, expected %s (last error: \"%s\")\n", \
                    __FILE__, __LINE__, #call, emotion_status_name(s_),                     \
                    emotion_status_name(expected), m_ ? m_ : "(NULL)");                     \
        }                                                                                   \
    } while (0)

static int same_faces(const emotion_face *a, const emotion_face *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (a[i].expression != b[i].expression || fabsf(a[i].valence - b[i].valence) > 1e-6f ||
            fabsf(a[i].arousal - b[i].arousal) > 1e-6f || fabsf(a[i].bbox.x - b[i].bbox.x) > 1e-6f)
            return 0;
        for (int e = 0; e < EMOTION_EXPRESSION_COUNT; e++)
            if (fabsf(a[i].probabilities[e] - b[i].probabilities[e]) > 1e-6f) return 0;
    }
    return 1;
}

static void test_names_and_version(void) {
    CHECK(strcmp(emotion_version(), EMOTION_VERSION) == 0);
    CHECK(strcmp(emotion_status_name(EMOTION_OK), "EMOTION_OK") == 0);
    CHECK(strcmp(emotion_status_name(EMOTION_ERROR_BUFFER_TOO_SMALL), "EMOTION_ERROR_BUFFER_TOO_SMALL") == 0);
    CHECK(emotion_status_name(-1) == NULL);
    CHECK(strcmp(emotion_expression_name(EMOTION_EXPRESSION_NEUTRAL), "neutral") == 0);
    CHECK(strcmp(emotion_expression_name(EMOTION_EXPRESSION_CONTEMPT), "contempt") == 0);
    CHECK(emotion_expression_name(EMOTION_EXPRESSION_COUNT) == NULL);
    emotion_options o = emotion_options_default();
    CHECK(o.struct_size == sizeof(emotion_options));
    CHECK(o.min_face_size == 20 && o.max_face_size == 0 && o.threads == 0);
    CHECK(o.detector == EMOTION_DETECTOR_YUNET && o.align == 0);
}

static void test_create(const char *not_a_model) {
    emotion_analyzer *a = (emotion_analyzer *)&a; /* garbage: must be reset to NULL on failure */
    CHECK_STATUS(emotion_analyzer_new(NULL, NULL), EMOTION_ERROR_NULL_POINTER);

    emotion_options zeroed;
    memset(&zeroed, 0, sizeof zeroed);
    CHECK_STATUS(emotion_analyzer_new(&zeroed, &a), EMOTION_ERROR_INVALID_ARGUMENT);
    CHECK(a == NULL);
    CHECK(strstr(emotion_last_error_message(), "struct_size") != NULL);

    emotion_options o = emotion_options_default();
    o.min_face_size = 5;
    CHECK_STATUS(emotion_analyzer_new(&o, &a), EMOTION_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(emotion_last_error_message(), "min_face_size") != NULL);
    o = emotion_options_default();
    o.threads = 1000;
    CHECK_STATUS(emotion_analyzer_new(&o, &a), EMOTION_ERROR_INVALID_ARGUMENT);

    a = (emotion_analyzer *)&a;
    CHECK_STATUS(emotion_analyzer_new_with_model("/nonexistent/model.onnx", NULL, &a), EMOTION_ERROR_IO);
    CHECK(a == NULL);
    CHECK_STATUS(emotion_analyzer_new_with_model(not_a_model, NULL, &a), EMOTION_ERROR_MODEL);
    CHECK(a == NULL);
    CHECK_STATUS(emotion_analyzer_new_with_model(NULL, NULL, &a), EMOTION_ERROR_NULL_POINTER);

    emotion_analyzer_free(NULL); /* no-op */
}

static void test_image_load(const char *not_an_image) {
    emotion_image img;
    CHECK_STATUS(emotion_image_load("/nonexistent/image.png", &img), EMOTION_ERROR_IO);
    CHECK(img.pixels == NULL && img.width == 0);
    CHECK_STATUS(emotion_image_load(not_an_image, &img), EMOTION_ERROR_DECODE);
    CHECK_STATUS(emotion_image_load(NULL, &img), EMOTION_ERROR_NULL_POINTER);
    CHECK_STATUS(emotion_image_load(not_an_image, NULL), EMOTION_ERROR_NULL_POINTER);
    emotion_image_free(&img); /* zeroed by the failed load: harmless */
    emotion_image_free(NULL);
}

/* Bad arguments to the analysis functions, on a small gray image (none reach the model). */
static void test_bad_arguments(const emotion_analyzer *a) {
    uint8_t px[64 * 64 * 3] = {0};
    emotion_face faces[4];
    emotion_detection dets[4];
    size_t count = 99;

    CHECK_STATUS(emotion_analyze(NULL, px, 64, 64, 192, EMOTION_PIXEL_RGB8, faces, 4, &count),
                 EMOTION_ERROR_NULL_POINTER);
    CHECK(count == 0);
    CHECK_STATUS(emotion_analyze(a, px, 64, 64, 192, EMOTION_PIXEL_RGB8, faces, 4, NULL),
                 EMOTION_ERROR_NULL_POINTER);
    CHECK_STATUS(emotion_analyze(a, NULL, 64, 64, 192, EMOTION_PIXEL_RGB8, faces, 4, &count),
                 EMOTION_ERROR_NULL_POINTER);
    CHECK_STATUS(emotion_analyze(a, px, 64, 64, 192, EMOTION_PIXEL_RGB8, NULL, 4, &count),
                 EMOTION_ERROR_NULL_POINTER);
    CHECK_STATUS(emotion_detect(NULL, px, 64, 64, 192, EMOTION_PIXEL_RGB8, dets, 4, &count),
                 EMOTION_ERROR_NULL_POINTER);

    /* Zero sizes. */
    CHECK_STATUS(emotion_analyze(a, px, 0, 64, 192, EMOTION_PIXEL_RGB8, faces, 4, &count),
                 EMOTION_ERROR_INVALID_IMAGE);
    CHECK_STATUS(emotion_detect(a, px, 64, 0, 192, EMOTION_PIXEL_RGB8, dets, 4, &count),
                 EMOTION_ERROR_INVALID_IMAGE);
    CHECK(strstr(emotion_last_error_message(), "zero size") != NULL);

    /* Stride smaller than a row (64 * 3 = 192 bytes), and 0. */
    CHECK_STATUS(emotion_analyze(a, px, 64, 64, 191, EMOTION_PIXEL_RGB8, faces, 4, &count),
                 EMOTION_ERROR_INVALID_IMAGE);
    CHECK(strstr(emotion_last_error_message(), "stride") != NULL);
    CHECK_STATUS(emotion_analyze(a, px, 64, 64, 0, EMOTION_PIXEL_RGB8, faces, 4, &count),
                 EMOTION_ERROR_INVALID_IMAGE);
    CHECK_STATUS(emotion_analyze(a, px, 64, 64, 64, EMOTION_PIXEL_RGBA8, faces, 4, &count),
                 EMOTION_ERROR_INVALID_IMAGE);

    /* Overflowing and oversized images: rejected before any pixel is read. */
    CHECK_STATUS(emotion_analyze(a, px, 64, 3, SIZE_MAX / 2, EMOTION_PIXEL_RGB8, faces, 4, &count),
                 EMOTION_ERROR_INVALID_IMAGE);
    CHECK(strstr(emotion_last_error_message(), "overflow") != NULL);
    CHECK_STATUS(emotion_analyze(a, px, UINT32_MAX, UINT32_MAX, SIZE_MAX, EMOTION_PIXEL_RGB8, faces,
                                 4, &count),
                 EMOTION_ERROR_INVALID_IMAGE);

    /* Unknown pixel format. */
    CHECK_STATUS(emotion_analyze(a, px, 64, 64, 192, (emotion_pixel_format)99, faces, 4, &count),
                 EMOTION_ERROR_INVALID_ARGUMENT);

    /* Caller boxes: NULL with a count, a NaN box, a box outside the image, none at all. */
    emotion_bbox boxes[2] = {{10, 10, 30, 30}, {NAN, 0, 10, 10}};
    CHECK_STATUS(emotion_classify(a, px, 64, 64, 192, EMOTION_PIXEL_RGB8, NULL, 2, faces, 4, &count),
                 EMOTION_ERROR_NULL_POINTER);
    CHECK_STATUS(emotion_classify(a, px, 64, 64, 192, EMOTION_PIXEL_RGB8, boxes, 2, faces, 4, &count),
                 EMOTION_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(emotion_last_error_message(), "#1") != NULL);
    boxes[1] = (emotion_bbox){100, 100, 10, 10};
    CHECK_STATUS(emotion_classify(a, px, 64, 64, 192, EMOTION_PIXEL_RGB8, boxes, 2, faces, 4, &count),
                 EMOTION_ERROR_INVALID_ARGUMENT);
    count = 99;
    CHECK_STATUS(emotion_classify(a, px, 64, 64, 192, EMOTION_PIXEL_RGB8, NULL, 0, NULL, 0, &count),
                 EMOTION_OK);
    CHECK(count == 0);

    /* A blank image has no faces: OK with count 0 even when out is NULL. */
    count = 99;
    CHECK_STATUS(emotion_analyze(a, px, 64, 64, 192, EMOTION_PIXEL_RGB8, NULL, 0, &count), EMOTION_OK);
    CHECK(count == 0);
}

/* Undersized output arrays with retry, and stride/format handling, on a real photo. */
static void test_real_image(const emotion_analyzer *a, const char *path) {
    emotion_image img;
    CHECK_STATUS(emotion_image_load(path, &img), EMOTION_OK);
    if (img.pixels == NULL) return;
    CHECK(img.format == EMOTION_PIXEL_RGB8 && img.stride == (size_t)img.width * 3);

    /* Query idiom: no array, capacity 0. */
    size_t needed = 0;
    CHECK_STATUS(emotion_analyze(a, img.pixels, img.width, img.height, img.stride, img.format, NULL, 0,
                                 &needed),
                 EMOTION_ERROR_BUFFER_TOO_SMALL);
    CHECK(needed >= 1);
    if (needed == 0) {
        emotion_image_free(&img);
        return;
    }
    /* Retry with exactly what was asked for. */
    emotion_face *faces = calloc(needed, sizeof *faces);
    size_t count = 0;
    CHECK_STATUS(emotion_analyze(a, img.pixels, img.width, img.height, img.stride, img.format, faces,
                                 needed, &count),
                 EMOTION_OK);
    CHECK(count == needed);
    float sum = 0;
    for (int e = 0; e < EMOTION_EXPRESSION_COUNT; e++) sum += faces[0].probabilities[e];
    CHECK(fabsf(sum - 1.0f) < 1e-3f);
    CHECK(faces[0].expression < EMOTION_EXPRESSION_COUNT && !isnan(faces[0].detection_score));
    CHECK(faces[0].valence >= -1 && faces[0].valence <= 1 && faces[0].arousal >= -1 && faces[0].arousal <= 1);

    /* emotion_detect: same boxes as emotion_analyze. */
    emotion_detection *dets = calloc(needed, sizeof *dets);
    CHECK_STATUS(emotion_detect(a, img.pixels, img.width, img.height, img.stride, img.format, dets,
                                needed, &count),
                 EMOTION_OK);
    CHECK(count == needed && dets[0].bbox.x == faces[0].bbox.x && dets[0].detection_score == faces[0].detection_score);

    /* Same picture as BGR with 13 bytes of padding per row: same faces. */
    size_t stride = img.stride + 13;
    uint8_t *bgr = malloc(stride * img.height);
    for (uint32_t y = 0; y < img.height; y++) {
        const uint8_t *src = img.pixels + y * img.stride;
        uint8_t *dst = bgr + y * stride;
        for (uint32_t x = 0; x < img.width; x++) {
            dst[3 * x] = src[3 * x + 2];
            dst[3 * x + 1] = src[3 * x + 1];
            dst[3 * x + 2] = src[3 * x];
        }
        memset(dst + img.stride, 0xAB, 13);
    }
    emotion_face *faces2 = calloc(needed, sizeof *faces2);
    CHECK_STATUS(emotion_analyze(a, bgr, img.width, img.height, stride, EMOTION_PIXEL_BGR8, faces2,
                                 needed, &count),
                 EMOTION_OK);
    CHECK(count == needed && same_faces(faces, faces2, needed));
    free(bgr);

    /* Caller boxes: two boxes, room for one, then retry. */
    emotion_bbox boxes[2] = {faces[0].bbox, {faces[0].bbox.x + 5, faces[0].bbox.y, faces[0].bbox.width,
                                             faces[0].bbox.height}};
    emotion_face classified[2];
    CHECK_STATUS(emotion_classify(a, img.pixels, img.width, img.height, img.stride, img.format, boxes,
                                  2, classified, 1, &count),
                 EMOTION_ERROR_BUFFER_TOO_SMALL);
    CHECK(count == 2);
    CHECK_STATUS(emotion_classify(a, img.pixels, img.width, img.height, img.stride, img.format, boxes,
                                  2, classified, 2, &count),
                 EMOTION_OK);
    CHECK(count == 2 && isnan(classified[0].detection_score) && isnan(classified[1].detection_score));
    /* A caller box is a square face box (the model's geometry), whatever the detector: YuNet's
       taller box gives a slightly different crop but the same expression. With detector seeta,
       whose boxes have that geometry, classify of analyze's box gives analyze's face. */
    CHECK(classified[0].expression == faces[0].expression && !classified[0].has_landmarks);
    {
        emotion_options so = emotion_options_default();
        so.detector = EMOTION_DETECTOR_SEETA;
        emotion_analyzer *seeta = NULL;
        emotion_face sf[4], sc[1];
        size_t sn = 0, cn = 0;
        CHECK_STATUS(emotion_analyzer_new(&so, &seeta), EMOTION_OK);
        CHECK_STATUS(emotion_analyze(seeta, img.pixels, img.width, img.height, img.stride, img.format, sf, 4, &sn),
                     EMOTION_OK);
        CHECK(sn >= 1 && !sf[0].has_landmarks);
        CHECK_STATUS(emotion_classify(seeta, img.pixels, img.width, img.height, img.stride, img.format,
                                      &sf[0].bbox, 1, sc, 1, &cn),
                     EMOTION_OK);
        CHECK(cn == 1 && sc[0].expression == sf[0].expression && fabsf(sc[0].valence - sf[0].valence) < 1e-4f);
        emotion_analyzer_free(seeta);
    }

    free(faces);
    free(faces2);
    free(dets);
    emotion_image_free(&img);
    CHECK(img.pixels == NULL);
    emotion_image_free(&img); /* second free of the same struct: harmless */
}

/* Model information, max_faces / flip_average options and drawing on the image with a face. */
static void test_info_options_and_draw(const char *path) {
    emotion_options o = emotion_options_default();
    o.max_faces = 1;
    o.flip_average = 1;
    o.threads = 0; /* 0 = all cores, as everywhere */
    emotion_analyzer *a = NULL;
    CHECK_STATUS(emotion_analyzer_new(&o, &a), EMOTION_OK);
    if (a == NULL) return;
    emotion_model_info info;
    CHECK_STATUS(emotion_analyzer_model_info(a, &info), EMOTION_OK);
    CHECK(strlen(info.version) > 0 && info.input_height == 48 && info.input_width == 48);
    CHECK(info.input_channels == 1 && info.input_color == EMOTION_INPUT_COLOR_GRAY && info.flip_average == 1);
    CHECK_STATUS(emotion_analyzer_model_info(NULL, &info), EMOTION_ERROR_NULL_POINTER);

    emotion_image img;
    int partial = -1;
    CHECK_STATUS(emotion_image_load_with_options(path, EMOTION_LOAD_ALLOW_PARTIAL, &img, &partial), EMOTION_OK);
    CHECK(partial == 0);
    emotion_face faces[2];
    size_t count = 0;
    CHECK_STATUS(emotion_analyze(a, img.pixels, img.width, img.height, img.stride, img.format, faces, 2, &count),
                 EMOTION_OK);
    CHECK(count == 1);
    /* Whole-image classification is emotion_classify with the full-image box. */
    emotion_bbox whole = {0.0f, 0.0f, (float)img.width, (float)img.height};
    emotion_face one;
    CHECK_STATUS(emotion_classify(a, img.pixels, img.width, img.height, img.stride, img.format, &whole, 1, &one, 1,
                                  &count),
                 EMOTION_OK);
    CHECK(count == 1 && isnan(one.detection_score) && one.bbox.width == (float)img.width);

    uint8_t before = img.pixels[0];
    CHECK_STATUS(emotion_draw(img.pixels, img.width, img.height, img.stride, img.format, faces, 1), EMOTION_OK);
    CHECK(img.pixels[0] == before); /* the corner is far from the face */
    faces[0].expression = 99;
    CHECK_STATUS(emotion_draw(img.pixels, img.width, img.height, img.stride, img.format, faces, 1),
                 EMOTION_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(emotion_draw(img.pixels, img.width, img.height, img.stride, img.format, NULL, 1),
                 EMOTION_ERROR_NULL_POINTER);
    emotion_image_free(&img);
    emotion_analyzer_free(a);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s IMAGE_WITH_A_FACE NOT_AN_IMAGE\n", argv[0]);
        return 2;
    }
    test_names_and_version();
    test_create(argv[2]);
    test_image_load(argv[2]);
    test_info_options_and_draw(argv[1]);

    emotion_analyzer *a = NULL;
    CHECK_STATUS(emotion_analyzer_new(NULL, &a), EMOTION_OK);
    if (a != NULL) {
        test_bad_arguments(a);
        test_real_image(a, argv[1]);
        emotion_analyzer_free(a);
    }

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
