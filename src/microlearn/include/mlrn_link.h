/* mlrn_link.h: the device side of microlearn's serial protocol, version 1 (docs/serial-protocol.md).
 *
 * Frame: A5 5A | VER | TYPE | SEQ | LEN | PAYLOAD[LEN] | CRC32 (zlib's, over VER..PAYLOAD, little-endian).
 * The link parses bytes into requests, answers what it can itself (NAKs, the reply cached for a
 * repeated request) and frames the caller's replies. It knows nothing of Arduino: the caller reads
 * bytes from its serial port, passes millis(), and writes l->out[0..l->out_len) when told to.
 * Caller-owned buffers, no malloc:
 *
 *   static uint8_t rx[MLRN_LINK_RX_BYTES(N)], tx[MLRN_LINK_TX_BYTES(MY_MAX_REPLY)];
 *   static mlrn_link lnk;
 *   mlrn_link_init(&lnk, N, rx, sizeof rx, tx, sizeof tx);
 *   ...
 *   switch (mlrn_link_feed(&lnk, (uint8_t)Serial.read(), millis())) {
 *   case MLRN_LINK_REQUEST: answer lnk.type with lnk.rx[0..lnk.len), then mlrn_link_reply(); // fall through
 *   case MLRN_LINK_RESEND: case MLRN_LINK_NAK_READY: Serial.write(lnk.out, lnk.out_len);
 *   }
 *
 * After MLRN_LINK_REQUEST the payload stays in rx until the next byte is fed: answer (exactly once,
 * mlrn_link_reply) before feeding more. The link has already checked the version, the type and the
 * payload length of the type for this n_features, so the caller only reads the fields.
 */
#ifndef MLRN_LINK_H
#define MLRN_LINK_H
#include <string.h>
#include "mlrn.h"
#include "mlrn_crc32.h"

/* The frame layout below is version 1 of the protocol, written against runtime 4's mlrn.h (status type,
 * codes): a stale mlrn.h earlier on the include path must not build a device that misreports them. */
#if MLRN_RUNTIME_VERSION != 4
#error "mlrn_link.h: written for microlearn runtime version 4; use the matching microlearn include_dir()"
#endif

MLRN_FP_EXACT_BEGIN

#define MLRN_LINK_VERSION 1        /* the VER byte of every frame this link sends and accepts */
#define MLRN_LINK_SOF0 0xA5        /* start of frame, two bytes that plain text never contains */
#define MLRN_LINK_SOF1 0x5A
#define MLRN_LINK_REPLY_FLAG 0x80  /* reply TYPE = request TYPE | this; requests are below it */

/* Request types (host -> device). */
#define MLRN_LINK_HELLO 0x01
#define MLRN_LINK_ROW 0x02
#define MLRN_LINK_TRAIN 0x03
#define MLRN_LINK_PREDICT 0x04
#define MLRN_LINK_FEEDBACK 0x05
#define MLRN_LINK_EVAL 0x06
#define MLRN_LINK_MODEL 0x07
#define MLRN_LINK_CLEAR 0x08
#define MLRN_LINK_NAK 0xFF         /* reply only: the request was refused by the link, not executed */

/* Sketch kinds in the HELLO reply. */
#define MLRN_LINK_KIND_TRAIN 1
#define MLRN_LINK_KIND_LOOP 2
#define MLRN_LINK_KIND_MODEL 3

/* Why a NAK (its status byte). Below mlrn.h's codes so that a reply's status never means two things. */
#define MLRN_LINK_ERR_TYPE (-20)     /* unknown request type */
#define MLRN_LINK_ERR_LENGTH (-21)   /* payload length wrong for the type (and this n_features) */
#define MLRN_LINK_ERR_VERSION (-22)  /* VER is not MLRN_LINK_VERSION */
#define MLRN_LINK_ERR_TOO_LONG (-23) /* LEN larger than the device's receive buffer */

/* What mlrn_link_feed returns. */
#define MLRN_LINK_NONE 0       /* nothing to do yet */
#define MLRN_LINK_REQUEST 1    /* a new request: type, seq, rx[0..len); answer it with mlrn_link_reply */
#define MLRN_LINK_RESEND 2     /* a repeat of the last executed request: send out[0..out_len) again */
#define MLRN_LINK_NAK_READY 3  /* the link refused a frame: send out[0..out_len) (a NAK) */

/* The prediction FEEDBACK reports when the device had no model yet (INT16_MIN). */
#define MLRN_LINK_NO_PREDICTION (-32767 - 1)

/* A frame whose bytes stop arriving for this long is abandoned (a host resends after its own, longer,
 * timeout; the half frame must be gone by then). */
#ifndef MLRN_LINK_BYTE_TIMEOUT_MS
#define MLRN_LINK_BYTE_TIMEOUT_MS 100
#endif

/* ---- sizes (bytes) ---- */
#define MLRN_LINK_HEADER_BYTES 6     /* A5 5A VER TYPE SEQ LEN */
#define MLRN_LINK_CRC_BYTES 4
#define MLRN_LINK_OVERHEAD_BYTES 10  /* header + CRC */
#define MLRN_LINK_MAX_PAYLOAD 255    /* LEN is one byte */
#define MLRN_LINK_FRAME_BYTES(payload) ((payload) + MLRN_LINK_OVERHEAD_BYTES)
#define MLRN_LINK_F32_BYTES 4
#define MLRN_LINK_LABEL_BYTES 2      /* labels and predictions are int16 */
/* n_features such that a ROW / FEEDBACK payload (4 n + 2) fits LEN. */
#define MLRN_LINK_MAX_FEATURES 63
/* Request payloads. */
#define MLRN_LINK_HELLO_BYTES 4
#define MLRN_LINK_ROW_BYTES(n) ((n) * MLRN_LINK_F32_BYTES + MLRN_LINK_LABEL_BYTES)
#define MLRN_LINK_TRAIN_BYTES 0
#define MLRN_LINK_PREDICT_BYTES(n) ((n) * MLRN_LINK_F32_BYTES)
#define MLRN_LINK_FEEDBACK_BYTES(n) ((n) * MLRN_LINK_F32_BYTES + MLRN_LINK_LABEL_BYTES)
#define MLRN_LINK_EVAL_BYTES 0
#define MLRN_LINK_MODEL_BYTES 2
#define MLRN_LINK_CLEAR_BYTES 0
/* Reply payloads on success (an error reply may be the status byte alone). */
#define MLRN_LINK_HELLO_REPLY_BYTES 12
#define MLRN_LINK_ROW_REPLY_BYTES 3
#define MLRN_LINK_TRAIN_REPLY_BYTES 9
#define MLRN_LINK_PREDICT_REPLY_BYTES 3
#define MLRN_LINK_FEEDBACK_REPLY_BYTES 6
#define MLRN_LINK_EVAL_REPLY_BYTES 5
#define MLRN_LINK_MODEL_REPLY_HEADER_BYTES 3  /* status, u16 total; the model bytes follow */
#define MLRN_LINK_CLEAR_REPLY_BYTES 1
#define MLRN_LINK_NAK_REPLY_BYTES 2
/* Buffers: rx holds the largest request payload, tx the largest reply frame (at least HELLO's). */
#define MLRN_LINK_RX_BYTES(n) MLRN_LINK_FEEDBACK_BYTES(n)
#define MLRN_LINK_TX_BYTES(max_reply) MLRN_LINK_FRAME_BYTES(max_reply)
#define MLRN_LINK_BUFFER_BYTES(n, max_reply) (MLRN_LINK_RX_BYTES(n) + MLRN_LINK_TX_BYTES(max_reply))

/* ---- little-endian fields ---- */
static inline void mlrn_link_put_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)(v >> 8);
}
static inline void mlrn_link_put_i16(uint8_t *p, int16_t v) { mlrn_link_put_u16(p, (uint16_t)v); }
static inline void mlrn_link_put_u32(uint8_t *p, uint32_t v) {
    mlrn_link_put_u16(p, (uint16_t)(v & 0xFFFFu));
    mlrn_link_put_u16(p + 2, (uint16_t)(v >> 16));
}
/* The float's bits, whatever the CPU's byte order (memcpy: no aliasing games). */
static inline void mlrn_link_put_f32(uint8_t *p, float v) {
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    mlrn_link_put_u32(p, bits);
}
static inline uint16_t mlrn_link_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | ((uint16_t)p[1] << 8)); }
static inline int16_t mlrn_link_get_i16(const uint8_t *p) {
    uint16_t u = mlrn_link_get_u16(p);
    /* two's complement by arithmetic: converting an out-of-range value to int16_t is implementation-defined */
    return u < 0x8000u ? (int16_t)u : (int16_t)((int32_t)u - 0x10000L);
}
static inline uint32_t mlrn_link_get_u32(const uint8_t *p) {
    return (uint32_t)mlrn_link_get_u16(p) | ((uint32_t)mlrn_link_get_u16(p + 2) << 16);
}
static inline float mlrn_link_get_f32(const uint8_t *p) {
    uint32_t bits = mlrn_link_get_u32(p);
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* ---- the link ---- */
typedef struct {
    /* the request after MLRN_LINK_REQUEST (read-only for the caller) */
    uint8_t type, seq, len;
    uint8_t *rx;                 /* the payload */
    /* what to send after MLRN_LINK_REQUEST (once replied) / _RESEND / _NAK_READY */
    const uint8_t *out;
    uint16_t out_len;
    /* link health, saturating */
    uint16_t n_crc_errors;       /* frames that failed their CRC */
    uint16_t n_oversize;         /* frames longer than rx (refused with a NAK) */
    uint16_t n_repeats;          /* repeats answered from the cache, not executed again */
    uint16_t n_timeouts;         /* half frames abandoned after MLRN_LINK_BYTE_TIMEOUT_MS */
    /* private */
    uint8_t *tx;
    uint16_t rx_cap, tx_cap, tx_len, n_features;
    uint32_t crc, got_crc, last_ms, pending_crc, last_crc;
    uint8_t state, pos, f_ver, f_type, f_seq, f_len;
    uint8_t last_seq, have_last, pending;
    uint8_t nak[MLRN_LINK_FRAME_BYTES(MLRN_LINK_NAK_REPLY_BYTES)];  /* apart from tx, which holds the cache */
} mlrn_link;

/* parser states (an enum: private, not vocabulary) */
enum { MLRN_LINK__HUNT0, MLRN_LINK__HUNT1, MLRN_LINK__VER, MLRN_LINK__TYPE, MLRN_LINK__SEQ, MLRN_LINK__LEN,
       MLRN_LINK__PAYLOAD, MLRN_LINK__CRC };

static inline void mlrn_link__count(uint16_t *c) {
    if (*c < 0xFFFFu) (*c)++;
}

/* n_features: of the sketch (1..MLRN_LINK_MAX_FEATURES); rx: at least MLRN_LINK_RX_BYTES(n_features)
 * (payload bytes); tx: at least MLRN_LINK_TX_BYTES(MLRN_LINK_HELLO_REPLY_BYTES) (a whole reply frame). */
static inline mlrn_status mlrn_link_init(mlrn_link *l, uint16_t n_features, uint8_t *rx, uint16_t rx_cap,
                                         uint8_t *tx, uint16_t tx_cap) {
    if (l == NULL) return MLRN_ERR_ARG;
    memset(l, 0, sizeof *l);
    if (rx == NULL || tx == NULL || n_features < 1 || n_features > MLRN_LINK_MAX_FEATURES) return MLRN_ERR_ARG;
    if (rx_cap < MLRN_LINK_RX_BYTES(n_features) || tx_cap < MLRN_LINK_TX_BYTES(MLRN_LINK_HELLO_REPLY_BYTES))
        return MLRN_ERR_BUFFER;
    l->rx = rx;
    l->tx = tx;
    l->rx_cap = rx_cap;
    l->tx_cap = tx_cap;
    l->n_features = n_features;
    return MLRN_OK;
}

/* The largest request payload the device accepts (HELLO's "max request payload"). */
static inline uint8_t mlrn_link_max_request(const mlrn_link *l) {
    return (uint8_t)(l->rx_cap < MLRN_LINK_MAX_PAYLOAD ? l->rx_cap : MLRN_LINK_MAX_PAYLOAD);
}

/* The largest reply payload tx holds (a MODEL reply sends that many bytes minus its header). */
static inline uint8_t mlrn_link_reply_room(const mlrn_link *l) {
    uint16_t room = (uint16_t)(l->tx_cap - MLRN_LINK_OVERHEAD_BYTES);
    return (uint8_t)(room < MLRN_LINK_MAX_PAYLOAD ? room : MLRN_LINK_MAX_PAYLOAD);
}

/* Where a reply payload may be written in place (saves a second buffer); mlrn_link_reply accepts it. */
static inline uint8_t *mlrn_link_reply_payload(mlrn_link *l) { return l->tx + MLRN_LINK_HEADER_BYTES; }

/* The payload length a request must have, or -1 for a type this protocol does not have. */
static inline int16_t mlrn_link_request_bytes(uint8_t type, uint16_t n_features) {
    switch (type) {
    case MLRN_LINK_HELLO: return MLRN_LINK_HELLO_BYTES;
    case MLRN_LINK_ROW: return (int16_t)MLRN_LINK_ROW_BYTES(n_features);
    case MLRN_LINK_TRAIN: return MLRN_LINK_TRAIN_BYTES;
    case MLRN_LINK_PREDICT: return (int16_t)MLRN_LINK_PREDICT_BYTES(n_features);
    case MLRN_LINK_FEEDBACK: return (int16_t)MLRN_LINK_FEEDBACK_BYTES(n_features);
    case MLRN_LINK_EVAL: return MLRN_LINK_EVAL_BYTES;
    case MLRN_LINK_MODEL: return MLRN_LINK_MODEL_BYTES;
    case MLRN_LINK_CLEAR: return MLRN_LINK_CLEAR_BYTES;
    default: return -1;
    }
}

/* A whole frame into dst (room checked by the callers); memmove: payload may already sit in place. */
static inline uint16_t mlrn_link__frame(uint8_t *dst, uint8_t type, uint8_t seq, const uint8_t *payload,
                                        uint8_t len) {
    uint32_t crc;
    if (len > 0 && payload != dst + MLRN_LINK_HEADER_BYTES) memmove(dst + MLRN_LINK_HEADER_BYTES, payload, len);
    dst[0] = MLRN_LINK_SOF0;
    dst[1] = MLRN_LINK_SOF1;
    dst[2] = MLRN_LINK_VERSION;
    dst[3] = type;
    dst[4] = seq;
    dst[5] = len;
    crc = mlrn_crc32(dst + 2, (size_t)len + (MLRN_LINK_HEADER_BYTES - 2));
    mlrn_link_put_u32(dst + MLRN_LINK_HEADER_BYTES + len, crc);
    return (uint16_t)MLRN_LINK_FRAME_BYTES(len);
}

/* A NAK for request `seq` (not cached: the request was not executed). Sets out; returns its length. */
static inline uint16_t mlrn_link_nak(mlrn_link *l, uint8_t seq, mlrn_status why) {
    uint8_t p[MLRN_LINK_NAK_REPLY_BYTES];
    p[0] = (uint8_t)why;
    p[1] = MLRN_LINK_VERSION;
    l->out = l->nak;
    l->out_len = mlrn_link__frame(l->nak, MLRN_LINK_NAK, seq, p, MLRN_LINK_NAK_REPLY_BYTES);
    return l->out_len;
}

/* The reply to the request last returned as MLRN_LINK_REQUEST: framed in tx and cached for repeats.
 * payload[0] is the status. A payload larger than mlrn_link_reply_room becomes the status
 * MLRN_ERR_BUFFER alone, a NULL one MLRN_ERR_ARG (the host always gets an answer). Sets out; returns
 * the frame's length, 0 when there is no request to answer. */
static inline uint16_t mlrn_link_reply(mlrn_link *l, const uint8_t *payload, uint8_t len) {
    uint8_t err;
    if (l == NULL || !l->pending) return 0;
    if ((payload == NULL && len > 0) || len == 0 || len > mlrn_link_reply_room(l)) {
        err = (uint8_t)(payload == NULL || len == 0 ? MLRN_ERR_ARG : MLRN_ERR_BUFFER);
        payload = &err;
        len = 1;
    }
    l->tx_len = mlrn_link__frame(l->tx, (uint8_t)(l->type | MLRN_LINK_REPLY_FLAG), l->seq, payload, len);
    l->pending = 0;
    l->have_last = 1;
    l->last_seq = l->seq;
    l->last_crc = l->pending_crc;
    l->out = l->tx;
    l->out_len = l->tx_len;
    return l->tx_len;
}

/* A complete frame with its CRC received: decide. */
static inline int8_t mlrn_link__complete(mlrn_link *l) {
    uint32_t crc = mlrn_crc32_final(l->crc);
    int16_t want;
    if (crc != l->got_crc) {
        mlrn_link__count(&l->n_crc_errors);
        return MLRN_LINK_NONE;
    }
    /* A reply (our own echo, another device): never answered, or two devices would NAK each other forever. */
    if (l->f_type & MLRN_LINK_REPLY_FLAG) return MLRN_LINK_NONE;
    if (l->f_ver != MLRN_LINK_VERSION) {
        mlrn_link_nak(l, l->f_seq, MLRN_LINK_ERR_VERSION);
        return MLRN_LINK_NAK_READY;
    }
    if (l->f_len > l->rx_cap) {
        mlrn_link__count(&l->n_oversize);
        mlrn_link_nak(l, l->f_seq, MLRN_LINK_ERR_TOO_LONG);
        return MLRN_LINK_NAK_READY;
    }
    want = mlrn_link_request_bytes(l->f_type, l->n_features);
    if (want < 0) {
        mlrn_link_nak(l, l->f_seq, MLRN_LINK_ERR_TYPE);
        return MLRN_LINK_NAK_READY;
    }
    if (want != (int16_t)l->f_len) {
        mlrn_link_nak(l, l->f_seq, MLRN_LINK_ERR_LENGTH);
        return MLRN_LINK_NAK_READY;
    }
    if (l->f_type == MLRN_LINK_HELLO) {
        l->have_last = 0;     /* a new session: a restarted host may reuse an old SEQ */
    } else if (l->have_last && l->f_seq == l->last_seq && crc == l->last_crc) {
        mlrn_link__count(&l->n_repeats);
        l->out = l->tx;
        l->out_len = l->tx_len;
        return MLRN_LINK_RESEND;
    }
    l->type = l->f_type;
    l->seq = l->f_seq;
    l->len = l->f_len;
    l->pending_crc = crc;
    l->pending = 1;
    return MLRN_LINK_REQUEST;
}

/* One received byte; now_ms: the device's millis() (wraps; only differences are used). */
static inline int8_t mlrn_link_feed(mlrn_link *l, uint8_t b, uint32_t now_ms) {
    if (l == NULL || l->rx == NULL) return MLRN_LINK_NONE;
    if (l->state > MLRN_LINK__HUNT1 && (uint32_t)(now_ms - l->last_ms) > (uint32_t)MLRN_LINK_BYTE_TIMEOUT_MS) {
        mlrn_link__count(&l->n_timeouts);
        l->state = MLRN_LINK__HUNT0;
    }
    l->last_ms = now_ms;
    l->pending = 0;       /* the caller had its chance to answer: rx is about to be overwritten */
    switch (l->state) {
    case MLRN_LINK__HUNT0:
        if (b == MLRN_LINK_SOF0) l->state = MLRN_LINK__HUNT1;
        return MLRN_LINK_NONE;
    case MLRN_LINK__HUNT1:
        if (b == MLRN_LINK_SOF1) {
            l->state = MLRN_LINK__VER;
            l->crc = mlrn_crc32_init();
        } else if (b != MLRN_LINK_SOF0) {
            l->state = MLRN_LINK__HUNT0;
        }
        return MLRN_LINK_NONE;
    case MLRN_LINK__VER: l->f_ver = b; l->state = MLRN_LINK__TYPE; break;
    case MLRN_LINK__TYPE: l->f_type = b; l->state = MLRN_LINK__SEQ; break;
    case MLRN_LINK__SEQ: l->f_seq = b; l->state = MLRN_LINK__LEN; break;
    case MLRN_LINK__LEN:
        l->f_len = b;
        l->pos = 0;
        l->got_crc = 0;
        l->state = b ? MLRN_LINK__PAYLOAD : MLRN_LINK__CRC;
        break;
    case MLRN_LINK__PAYLOAD:
        /* a frame longer than rx is read to its end without being stored: its CRC tells a real
         * over-long request (NAK) from a corrupted LEN (dropped) */
        if (l->f_len <= l->rx_cap) l->rx[l->pos] = b;
        l->pos++;
        if (l->pos == l->f_len) {
            l->pos = 0;
            l->state = MLRN_LINK__CRC;
        }
        break;
    default: /* MLRN_LINK__CRC */
        l->got_crc |= (uint32_t)b << (8u * l->pos);
        l->pos++;
        if (l->pos < MLRN_LINK_CRC_BYTES) return MLRN_LINK_NONE;
        l->state = MLRN_LINK__HUNT0;
        return mlrn_link__complete(l);
    }
    l->crc = mlrn_crc32_byte(l->crc, b);
    return MLRN_LINK_NONE;
}

MLRN_FP_EXACT_END

#endif /* MLRN_LINK_H */
