/*
 * analyze: the faces, expressions, valence and arousal in one image, printed as one JSON line in
 * the shape of the Rust CLI (`emotion IMAGE`), except that "timings" has "decode_ms",
 * "analyze_ms" (detection and classification together) and "total_ms".
 *
 *     analyze IMAGE [MODEL.onnx]
 *
 * Exit status: 0 on success, 1 when the image cannot be analysed, 2 for bad arguments or models.
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "emotion.h"

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Writes s as a JSON string literal. */
static void print_json_string(const char *s) {
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            printf("\\%c", *p);
        } else if (*p < 0x20) {
            printf("\\u%04x", *p);
        } else {
            putchar(*p);
        }
    }
    putchar('"');
}

/* %.9g round-trips a float exactly; JSON has no NaN, so a missing score is null. */
static void print_float(float v) {
    if (isfinite(v)) {
        printf("%.9g", (double)v);
    } else {
        printf("null");
    }
}

static void print_face(const emotion_face *f) {
    printf("{\"bbox\":{\"x\":");
    print_float(f->bbox.x);
    printf(",\"y\":");
    print_float(f->bbox.y);
    printf(",\"width\":");
    print_float(f->bbox.width);
    printf(",\"height\":");
    print_float(f->bbox.height);
    printf("},\"detection_score\":");
    print_float(f->detection_score);
    if (f->has_landmarks) { /* the CLI's shape: [[x, y], ...] in the subject's right eye, left eye, nose, mouth order */
        printf(",\"landmarks\":[");
        for (int i = 0; i < 5; i++) {
            printf("%s[", i ? "," : "");
            print_float(f->landmarks[2 * i]);
            putchar(',');
            print_float(f->landmarks[2 * i + 1]);
            putchar(']');
        }
        putchar(']');
    } else {
        printf(",\"landmarks\":null");
    }
    printf(",\"expression\":\"%s\",\"probabilities\":{", emotion_expression_name(f->expression));
    for (emotion_expression e = 0; e < EMOTION_EXPRESSION_COUNT; e++) {
        printf("%s\"%s\":", e ? "," : "", emotion_expression_name(e));
        print_float(f->probabilities[e]);
    }
    printf("},\"valence\":");
    print_float(f->valence);
    printf(",\"arousal\":");
    print_float(f->arousal);
    putchar('}');
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s IMAGE [MODEL.onnx]\n", argv[0]);
        return 2;
    }
    const char *path = argv[1];

    emotion_analyzer *analyzer = NULL;
    emotion_status status = argc == 3 ? emotion_analyzer_new_with_model(argv[2], NULL, &analyzer)
                                      : emotion_analyzer_new(NULL, &analyzer);
    if (status != EMOTION_OK) {
        fprintf(stderr, "analyze: %s: %s\n", emotion_status_name(status), emotion_last_error_message());
        return 2;
    }

    double t0 = now_ms();
    emotion_image image;
    int partial = 0; /* stays 0: without EMOTION_LOAD_ALLOW_PARTIAL damaged files are errors */
    status = emotion_image_load_with_options(path, 0, &image, &partial);
    if (status != EMOTION_OK) {
        fprintf(stderr, "analyze: %s: %s\n", emotion_status_name(status), emotion_last_error_message());
        emotion_analyzer_free(analyzer);
        return 1;
    }
    double t1 = now_ms();

    /* Room for typical photos; if there are more faces, allocate what *count asks and retry. */
    size_t capacity = 16, count = 0;
    emotion_face *faces = malloc(capacity * sizeof *faces);
    status = faces ? emotion_analyze(analyzer, image.pixels, image.width, image.height, image.stride,
                                     image.format, faces, capacity, &count)
                   : EMOTION_ERROR_INTERNAL;
    if (status == EMOTION_ERROR_BUFFER_TOO_SMALL) {
        capacity = count;
        free(faces);
        faces = malloc(capacity * sizeof *faces);
        status = faces ? emotion_analyze(analyzer, image.pixels, image.width, image.height,
                                         image.stride, image.format, faces, capacity, &count)
                       : EMOTION_ERROR_INTERNAL;
    }
    double t2 = now_ms();

    emotion_model_info info;
    if (status == EMOTION_OK) {
        status = emotion_analyzer_model_info(analyzer, &info);
    }

    int exit_code = 0;
    if (status == EMOTION_OK) {
        printf("{\"file\":");
        print_json_string(path);
        printf(",\"width\":%u,\"height\":%u,\"partial\":%s,\"model_version\":", (unsigned)image.width,
               (unsigned)image.height, partial ? "true" : "false");
        print_json_string(info.version);
        printf(",\"faces\":[");
        for (size_t i = 0; i < count; i++) {
            if (i) putchar(',');
            print_face(&faces[i]);
        }
        printf("],\"timings\":{\"decode_ms\":%.3f,\"analyze_ms\":%.3f,\"total_ms\":%.3f}}\n", t1 - t0,
               t2 - t1, t2 - t0);
    } else {
        fprintf(stderr, "analyze: %s: %s\n", path,
                faces ? emotion_last_error_message() : "out of memory");
        exit_code = 1;
    }

    free(faces);
    emotion_image_free(&image);
    emotion_analyzer_free(analyzer);
    return exit_code;
}
