/* A fake microlearn device on stdin/stdout, speaking the serial protocol through mlrn_link.h: what a
 * generated sketch does, with trivial "learning" so the host's tests can predict every answer.
 *
 *   ROW / FEEDBACK store the request's bytes (x, label) as received; TRAIN "trains" (iterations = 10 per
 *   row); PREDICT answers 1 when x[0] >= 0 else 0; EVAL counts stored rows whose label equals that
 *   rule; MODEL serves FAKE_MODEL_BYTES bytes, byte i = (i * 131 + 7) ^ (i >> 3), in chunks that fit tx;
 *   CLEAR forgets the rows. A plain text line follows some replies, as a sketch's report would.
 * At end of input it writes to stderr the stored rows (hex) and its counts, for the test to compare
 * with what the host sent. Build options: -DN_FEATURES, -DRX_CAP (payload bytes), -DMAX_REPLY. */
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <poll.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "mlrn_link.h"

#ifndef N_FEATURES
#define N_FEATURES 3
#endif
#ifndef RX_CAP
#define RX_CAP MLRN_LINK_RX_BYTES(N_FEATURES)
#endif
#ifndef MAX_REPLY
#define MAX_REPLY 40              /* small, so that the model takes many MODEL replies */
#endif
#define N_CLASSES 3
#define CAPACITY 200
#define FAKE_MODEL_BYTES 1000
#define ITERATIONS_PER_ROW 10u
#define VERSION_MAJOR 0
#define VERSION_MINOR 1
#define VERSION_PATCH 0
#define READ_CHUNK 64
#define POLL_MS 20
#define ROW_BYTES MLRN_LINK_ROW_BYTES(N_FEATURES)

static uint8_t rx[RX_CAP], tx[MLRN_LINK_TX_BYTES(MAX_REPLY)];
static mlrn_link link_;
static uint8_t rows[CAPACITY][ROW_BYTES];
static uint16_t n_rows;
static int trained;
static unsigned long executed, executed_by_type[MLRN_LINK_CLEAR + 1];

static uint32_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((unsigned long)ts.tv_sec * 1000ul + (unsigned long)ts.tv_nsec / 1000000ul);
}

static uint32_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((unsigned long)ts.tv_sec * 1000000ul + (unsigned long)ts.tv_nsec / 1000ul);
}

static void send_all(const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t k = write(STDOUT_FILENO, p, n);
        if (k <= 0) return;
        p += k;
        n -= (size_t)k;
    }
}

static void text(const char *s) { send_all((const uint8_t *)s, strlen(s)); }

static uint8_t model_byte(uint32_t i) { return (uint8_t)(((i * 131u + 7u) ^ (i >> 3)) & 0xFFu); }

static int16_t rule(const uint8_t *x) { return (int16_t)(mlrn_link_get_f32(x) >= 0.0f ? 1 : 0); }

/* A row's checks as the trainer's store makes them (finite, label in range, room). */
static mlrn_status store_row(const uint8_t *p) {
    uint16_t j;
    int16_t label = mlrn_link_get_i16(p + N_FEATURES * MLRN_LINK_F32_BYTES);
    for (j = 0; j < N_FEATURES; j++) {
        float v = mlrn_link_get_f32(p + j * MLRN_LINK_F32_BYTES);
        if (v != v || v > 3.4e38f || v < -3.4e38f) return MLRN_ERR_NAN;
    }
    if (label < 0 || label >= N_CLASSES) return MLRN_ERR_LABEL;
    if (n_rows >= CAPACITY) return MLRN_ERR_FULL;
    memcpy(rows[n_rows++], p, ROW_BYTES);
    return MLRN_OK;
}

/* Answer link_.type; returns the reply payload's length (written in place in tx). */
static uint8_t answer(uint8_t *o, const char **line) {
    const uint8_t *in = link_.rx;
    uint16_t i, correct = 0, total, offset, chunk;
    int16_t pred;
    o[0] = MLRN_OK;
    switch (link_.type) {
    case MLRN_LINK_HELLO:
        o[1] = MLRN_LINK_VERSION;
        o[2] = MLRN_LINK_KIND_TRAIN;
        mlrn_link_put_u16(o + 3, N_FEATURES);
        o[5] = N_CLASSES;
        mlrn_link_put_u16(o + 6, CAPACITY);
        o[8] = mlrn_link_max_request(&link_);
        o[9] = VERSION_MAJOR;
        o[10] = VERSION_MINOR;
        o[11] = VERSION_PATCH;
        return MLRN_LINK_HELLO_REPLY_BYTES;
    case MLRN_LINK_ROW:
        o[0] = (uint8_t)store_row(in);
        if ((int8_t)o[0] != MLRN_OK) return 1;
        mlrn_link_put_u16(o + 1, n_rows);
        return MLRN_LINK_ROW_REPLY_BYTES;
    case MLRN_LINK_TRAIN: {
        uint32_t t0 = now_us();
        if (n_rows == 0) { o[0] = (uint8_t)MLRN_ERR_EMPTY; return 1; }
        trained = 1;
        mlrn_link_put_u32(o + 1, ITERATIONS_PER_ROW * n_rows);
        mlrn_link_put_u32(o + 5, now_us() - t0);
        *line = "trained\r\n";
        return MLRN_LINK_TRAIN_REPLY_BYTES;
    }
    case MLRN_LINK_PREDICT:
        if (!trained) { o[0] = (uint8_t)MLRN_ERR_UNTRAINED; return 1; }
        mlrn_link_put_i16(o + 1, rule(in));
        return MLRN_LINK_PREDICT_REPLY_BYTES;
    case MLRN_LINK_FEEDBACK:
        pred = trained ? rule(in) : MLRN_LINK_NO_PREDICTION;
        o[0] = (uint8_t)store_row(in);
        if ((int8_t)o[0] != MLRN_OK) return 1;
        mlrn_link_put_i16(o + 1, pred);
        o[3] = (uint8_t)(n_rows % 5u == 0 ? 1 : 0);     /* an "accepted" retrain every fifth row */
        mlrn_link_put_u16(o + 4, n_rows);
        return MLRN_LINK_FEEDBACK_REPLY_BYTES;
    case MLRN_LINK_EVAL:
        if (!trained) { o[0] = (uint8_t)MLRN_ERR_UNTRAINED; return 1; }
        total = n_rows;
        for (i = 0; i < n_rows; i++)
            if (rule(rows[i]) == mlrn_link_get_i16(rows[i] + N_FEATURES * MLRN_LINK_F32_BYTES)) correct++;
        mlrn_link_put_u16(o + 1, correct);
        mlrn_link_put_u16(o + 3, total);
        return MLRN_LINK_EVAL_REPLY_BYTES;
    case MLRN_LINK_MODEL:
        offset = mlrn_link_get_u16(in);
        if (offset > FAKE_MODEL_BYTES) { o[0] = (uint8_t)MLRN_ERR_ARG; return 1; }
        mlrn_link_put_u16(o + 1, FAKE_MODEL_BYTES);
        chunk = (uint16_t)(mlrn_link_reply_room(&link_) - MLRN_LINK_MODEL_REPLY_HEADER_BYTES);
        if (chunk > FAKE_MODEL_BYTES - offset) chunk = (uint16_t)(FAKE_MODEL_BYTES - offset);
        for (i = 0; i < chunk; i++) o[MLRN_LINK_MODEL_REPLY_HEADER_BYTES + i] = model_byte((uint32_t)offset + i);
        return (uint8_t)(MLRN_LINK_MODEL_REPLY_HEADER_BYTES + chunk);
    default: /* MLRN_LINK_CLEAR: the link let no other type through */
        n_rows = 0;
        trained = 0;
        *line = "cleared\n";
        return MLRN_LINK_CLEAR_REPLY_BYTES;
    }
}

static void report(void) {
    uint16_t i, j;
    fprintf(stderr, "COUNTS rows=%u executed=%lu hello=%lu crc=%u oversize=%u repeats=%u timeouts=%u\n",
            (unsigned)n_rows, executed, executed_by_type[MLRN_LINK_HELLO], (unsigned)link_.n_crc_errors,
            (unsigned)link_.n_oversize, (unsigned)link_.n_repeats, (unsigned)link_.n_timeouts);
    for (i = 0; i < n_rows; i++) {
        fputs("R ", stderr);
        for (j = 0; j < ROW_BYTES; j++) fprintf(stderr, "%02x", (unsigned)rows[i][j]);
        fputc('\n', stderr);
    }
}

int main(void) {
    uint8_t buf[READ_CHUNK];
    mlrn_status st = mlrn_link_init(&link_, N_FEATURES, rx, sizeof rx, tx, sizeof tx);
    if (st != MLRN_OK) {
        fprintf(stderr, "init failed %d\n", (int)st);
        return 1;
    }
    text("fake device ready\n");
    for (;;) {
        struct pollfd pfd;
        ssize_t n, k;
        pfd.fd = STDIN_FILENO;
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (poll(&pfd, 1, POLL_MS) <= 0) continue;
        n = read(STDIN_FILENO, buf, sizeof buf);
        if (n <= 0) break;
        for (k = 0; k < n; k++) {
            const char *line = NULL;
            switch (mlrn_link_feed(&link_, buf[k], now_ms())) {
            case MLRN_LINK_REQUEST:
                executed++;
                executed_by_type[link_.type]++;
                mlrn_link_reply(&link_, mlrn_link_reply_payload(&link_),
                                answer(mlrn_link_reply_payload(&link_), &line));
                send_all(link_.out, link_.out_len);
                if (line != NULL) text(line);
                break;
            case MLRN_LINK_RESEND:
            case MLRN_LINK_NAK_READY:
                send_all(link_.out, link_.out_len);
                break;
            default:
                break;
            }
        }
    }
    report();
    return 0;
}
