/* simavr_serial: run an AVR ELF under libsimavr with its USART0 bridged to a serial port.
 *
 * usage: simavr_serial MCU CLOCK_HZ MAX_CYCLES FIRMWARE.elf UART_FD [REALTIME [EXIT_LOOP_ADDR|- [EEPROM_IN_FD|- [EEPROM_OUT_FD|-]]]]
 * The EEPROM starts erased (0xFF), or with the image read from EEPROM_IN_FD (a power cycle: what a previous
 * run left); at the end its whole content is written to EEPROM_OUT_FD. Descriptors, not paths: the confined
 * runner opens nothing.
 *
 * UART_FD is an inherited, open file descriptor: the master side of a pseudo-terminal that
 * microlearn.targets.serial_port created (the host program, pyserial or any other, opens the slave,
 * /dev/pts/N, exactly as it opens a real board's /dev/ttyUSB0). The descriptor is made here
 * non-blocking; the process never opens a file after loading the firmware (it confines itself with
 * Landlock to reading the ELF; microlearn starts it under mlrn_confine too), which is why the pty is
 * made by the caller and not here with posix_openpt: /dev/ptmx stays out of the sandbox.
 *
 * Host -> firmware: bytes read from the fd wait in a queue ("the wire") and enter USART0 at the
 * UART's own pace, one per simavr frame time (the model's cycles_per_byte, set by the firmware's
 * UBRR), as a host sending back to back would deliver them. The line starts when the firmware first
 * enables its receiver (simavr raises UART_IRQ_OUT_XON then); before that the bytes wait on the wire
 * rather than being lost while the board boots. A byte is pushed only while the UART says XON and
 * while simavr's receive FIFO holds fewer than RX_HW_DEPTH bytes: a real ATmega holds two received
 * bytes plus one in its shift register and loses the next one (data overrun) when the firmware does
 * not read UDR in time. simavr's 64-byte FIFO would hide that; here such a byte is lost as on the
 * part and counted (rx_overruns). A byte due while the firmware has disabled its receiver is lost
 * too (rx_dropped). So a slow firmware overflows exactly as it would on a board; nothing throttles
 * the host to the firmware's reading speed.
 *
 * Firmware -> host: each byte the firmware writes to UDR0 goes to the fd (through a buffer flushed
 * every slice). If the host does not read and the pty fills up, the simulation waits (like hardware
 * flow control): no output byte is ever dropped.
 *
 * The fd is polled every SLICE_CYCLES simulated cycles (never blocking the simulation on it). With
 * REALTIME 1 (the default) simulated time is kept from running ahead of wall-clock time (the process
 * sleeps, waking at once when host bytes arrive), so the firmware's millis() and the host's timeouts
 * agree and an idle firmware costs little CPU; a firmware that needs more than real time simply lags.
 * REALTIME 0 runs as fast as the host can.
 *
 * Ends on: cli+sleep (status=exit), returning from main into avr-libc's "cli; rjmp ." at
 * EXIT_LOOP_ADDR (status=exit_loop), a crash (status=crash), the host side of the pty closed by
 * everyone (status=hangup), MAX_CYCLES (status=cycle_limit; 0 = no limit) or SIGTERM / SIGINT
 * (status=terminated). After "@mlrn-simavr-serial ready" once the firmware is loaded, the last line
 * on stderr is the report:
 *   @mlrn-simavr-serial status=S exit_code=N cycles=N rx_bytes=N tx_bytes=N rx_overruns=N
 *                       rx_dropped=N frame_cycles=N min_sp=N ramend=N stack_bytes=N pc=0xN
 * cycles: simulated cycles run; rx_bytes: bytes delivered into the UART; tx_bytes: bytes the
 * firmware sent; frame_cycles: simavr's time for one byte on the wire at the firmware's baud rate
 * (simavr counts 1 start, 8 data, a parity bit even with none, 1 stop: 11 bits); stack_bytes as in simavr_runner.c (SP sampled after every instruction). */
#define _GNU_SOURCE /* O_PATH, for mlrn_landlock.h */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <simavr/avr_eeprom.h>
#include <simavr/avr_uart.h>
#include <simavr/sim_avr.h>
#include <simavr/sim_cycle_timers.h>
#include <simavr/sim_elf.h>
#include <simavr/sim_io.h>
#include <simavr/sim_irq.h>
#include <simavr/sim_regbit.h>

#include "mlrn_untrusted_elf.h"

#define ADDR_GPIOR0 0x3E        /* the exit code, as mlrn_target.c writes it */
#define SLICE_CYCLES 4096u      /* simulated cycles between polls of the fd: 256 us at 16 MHz */
#define IN_QUEUE_BYTES 4096u    /* host bytes read ahead ("on the wire"); the rest wait in the pty */
#define OUT_QUEUE_BYTES 65536u  /* firmware bytes not yet written to the pty */
#define RX_HW_DEPTH 3u          /* ATmega USART: 2-byte receive buffer + the shift register */
#define FALLBACK_FRAME_US 100u  /* simavr's frame time before the firmware sets a baud rate */
#define AHEAD_SLACK_NS 2000000ll /* sleep only when simulated time leads wall time by more */
#define MAX_SLEEP_MS 50          /* one sleep at most: SIGTERM and host bytes are seen within this */
#define OUT_WAIT_MS 10           /* a wait for the host to read, when the output queue is full */
#define FINAL_DRAIN_MS 1000      /* at the end, how long the last bytes may take to leave */
#define DRAIN_CYCLES 5000u       /* run on in the exit loop, so the UART finishes bytes in flight */
#define NS_PER_S 1000000000ll
#define NS_PER_MS 1000000ll

static volatile sig_atomic_t stop_requested;
static int port_fd = -1;
static int hangup;
static avr_t *avr;
static avr_uart_t *uart;
static avr_irq_t *uart_rx;
static int listening, ever_listened; /* XON seen (receiver enabled and FIFO not full) */
static uint8_t in_q[IN_QUEUE_BYTES], out_q[OUT_QUEUE_BYTES];
static size_t in_head, in_len, out_head, out_len;
static avr_cycle_count_t line_free_at; /* the cycle the wire may start the next byte */
static unsigned long long rx_bytes, tx_bytes, rx_overruns, rx_dropped;
static int exit_code = -1;
static int sp_half_written;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* Write what the output queue holds, without blocking. */
static void flush_out(void) {
    while (out_len > 0 && !hangup) {
        size_t chunk = out_len;
        ssize_t n;
        if (out_head + chunk > OUT_QUEUE_BYTES) chunk = OUT_QUEUE_BYTES - out_head;
        n = write(port_fd, out_q + out_head, chunk);
        if (n > 0) {
            out_head = (out_head + (size_t)n) % OUT_QUEUE_BYTES;
            out_len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            if (n < 0 && errno != EAGAIN) hangup = 1; /* EIO: nobody holds the host side open */
            return;
        }
    }
}

/* Wait up to `ms` for the fd to take output (or for a signal). */
static void wait_writable(int ms) {
    struct pollfd p;
    p.fd = port_fd;
    p.events = POLLOUT;
    p.revents = 0;
    if (poll(&p, 1, ms) > 0 && (p.revents & (POLLERR | POLLNVAL))) hangup = 1;
}

static void on_uart_out(avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq;
    (void)param;
    tx_bytes++;
    /* Full: the host is not reading. Wait for it (flow control) rather than drop a byte. */
    while (out_len == OUT_QUEUE_BYTES && !hangup && !stop_requested) {
        flush_out();
        if (out_len == OUT_QUEUE_BYTES) wait_writable(OUT_WAIT_MS);
    }
    if (out_len == OUT_QUEUE_BYTES) return; /* ending: the byte has nowhere to go */
    out_q[(out_head + out_len) % OUT_QUEUE_BYTES] = (uint8_t)(value & 0xFFu);
    out_len++;
}

static void on_xon(avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq;
    (void)param;
    if (value) listening = ever_listened = 1;
}

static void on_xoff(avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq;
    (void)param;
    if (value) listening = 0;
}

static avr_cycle_count_t frame_cycles(void) {
    avr_cycle_count_t c = uart->cycles_per_byte;
    if (c == 0) c = (avr_cycle_count_t)avr->frequency / (1000000u / FALLBACK_FRAME_US);
    return c ? c : 1;
}

/* Bytes in simavr's receive FIFO (avr_uart.h declares its ring, not its accessors). */
static unsigned rx_fifo_bytes(void) {
    return ((unsigned)uart->input.write - (unsigned)uart->input.read) & ((unsigned)uart_fifo_fifo_size - 1u);
}

/* The wire delivers the byte at the head of the queue: into the UART if it can take it, else lost
 * as on the part. Returns 0 when the byte must wait (the receiver was never enabled yet). */
static int deliver_one(void) {
    uint8_t b = in_q[in_head];
    if (!ever_listened) return 0;
    if (!listening || !avr_regbit_get(avr, uart->rxen)) {
        rx_dropped++;
    } else if (rx_fifo_bytes() >= RX_HW_DEPTH) {
        rx_overruns++;
    } else {
        avr_raise_irq(uart_rx, b);
        rx_bytes++;
    }
    in_head = (in_head + 1) % IN_QUEUE_BYTES;
    in_len--;
    return 1;
}

static avr_cycle_count_t line_tick(avr_t *a, avr_cycle_count_t when, void *param) {
    (void)a;
    (void)param;
    if (in_len > 0) {
        (void)deliver_one(); /* a byte not taken yet (receiver never enabled) is tried a frame later */
        line_free_at = when + frame_cycles();
    }
    return in_len > 0 ? line_free_at : 0;
}

/* New bytes on the wire: start the line unless it is already sending. */
static void start_line(void) {
    avr_cycle_count_t delay;
    if (in_len == 0 || avr_cycle_timer_status(avr, line_tick, NULL) != 0) return;
    delay = line_free_at > avr->cycle ? line_free_at - avr->cycle : 1;
    avr_cycle_timer_register(avr, delay, line_tick, NULL);
}

/* Read whatever the host has sent, as far as the queue has room; never blocks. */
static void read_in(void) {
    while (in_len < IN_QUEUE_BYTES && !hangup) {
        size_t tail = (in_head + in_len) % IN_QUEUE_BYTES;
        size_t room = IN_QUEUE_BYTES - in_len;
        ssize_t n;
        if (tail + room > IN_QUEUE_BYTES) room = IN_QUEUE_BYTES - tail;
        n = read(port_fd, in_q + tail, room);
        if (n > 0) {
            in_len += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            if (n == 0 || errno != EAGAIN) hangup = 1; /* EIO: the host side is closed by everyone */
            return;
        }
    }
}

/* Simulated time ahead of wall time: sleep the difference (bounded), waking for host bytes. */
static void keep_real_time(long long start_ns) {
    long long sim_ns = (long long)((double)avr->cycle * (double)NS_PER_S / (double)avr->frequency);
    long long ahead = sim_ns - (now_ns() - start_ns);
    struct pollfd p;
    int ms;
    if (ahead <= AHEAD_SLACK_NS) return;
    ms = ahead / NS_PER_MS > MAX_SLEEP_MS ? MAX_SLEEP_MS : (int)(ahead / NS_PER_MS);
    p.fd = port_fd;
    p.events = (short)((in_len < IN_QUEUE_BYTES ? POLLIN : 0) | (out_len > 0 ? POLLOUT : 0));
    p.revents = 0;
    (void)poll(&p, 1, ms);
}

static void on_exit_code(avr_t *a, avr_io_addr_t addr, uint8_t v, void *param) {
    (void)param;
    a->data[addr] = v;
    exit_code = v;
}

static void on_sp_write(avr_t *a, avr_io_addr_t addr, uint8_t v, void *param) {
    (void)param;
    a->data[addr] = v;
    sp_half_written ^= 1; /* compilers write both bytes, one right after the other */
}

static avr_uart_t *find_uart0(avr_t *a) {
    avr_io_t *io;
    for (io = a->io_port; io; io = io->next)
        if (io->kind && strcmp(io->kind, "uart") == 0 && ((avr_uart_t *)io)->name == '0') return (avr_uart_t *)io;
    return NULL;
}

#define BAD_FD (-2)
#define ERASED 0xFF

/* A descriptor argument: "-" (none: -1), or an open descriptor; BAD_FD with a message otherwise. */
static int fd_arg(const char *text) {
    char *end;
    long fd;
    if (strcmp(text, "-") == 0) return -1;
    fd = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || fd < 0 || fd > INT_MAX || fcntl((int)fd, F_GETFD) < 0) {
        fprintf(stderr, "simavr_serial: %s is not an open file descriptor\n", text);
        return BAD_FD;
    }
    return (int)fd;
}

/* simavr's own EEPROM array (AVR_IOCTL_EEPROM_GET with ee == NULL hands it out; simavr 1.6 returns -1 even
 * on success and refuses a whole-array request, so ask for one byte and use the pointer: see
 * eeprom_runner.c). NULL when the MCU has none. */
static uint8_t *eeprom_of(avr_t *a, uint32_t *size) {
    avr_eeprom_desc_t d;
    memset(&d, 0, sizeof d);
    d.size = 1;
    avr_ioctl(a, AVR_IOCTL_EEPROM_GET, &d);
    *size = d.ee ? (uint32_t)(a->e2end + 1) : 0u;
    return d.ee;
}

/* At most `size` bytes of an image (a shorter one leaves the rest erased); -1 on a read error. */
static int read_image(int fd, uint8_t *dst, uint32_t size) {
    uint32_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, dst + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) break;
        got += (uint32_t)n;
    }
    return 0;
}

static int write_image(int fd, const uint8_t *src, uint32_t size) {
    uint32_t put = 0;
    while (put < size) {
        ssize_t n = write(fd, src + put, size - put);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        put += (uint32_t)n;
    }
    return 0;
}

int main(int argc, char **argv) {
    elf_firmware_t fw;
    uint8_t *ee;
    uint32_t ee_size = 0;
    int ee_in_fd = -1, ee_out_fd = -1;
    uint32_t flags = 0;
    unsigned long long max_cycles;
    uint16_t sp, min_sp;
    int realtime = 1, fl;
    long long start_ns, drain_deadline;
    avr_flashaddr_t exit_loop_pc = (avr_flashaddr_t)-1;
    avr_cycle_count_t drain_until = 0;
    const char *status = NULL;
    struct sigaction sa;
    char *end;
    if (argc < 6 || argc > 10) {
        fprintf(stderr, "usage: %s MCU CLOCK_HZ MAX_CYCLES FIRMWARE.elf UART_FD [REALTIME [EXIT_LOOP_ADDR|- "
                "[EEPROM_IN_FD|- [EEPROM_OUT_FD|-]]]]\n", argv[0]);
        return 2;
    }
    (void)mlrn_read_all; /* the shared header's input reader: this program has no input file */
    max_cycles = strtoull(argv[3], NULL, 10);
    port_fd = (int)strtol(argv[5], &end, 10);
    if (*argv[5] == '\0' || *end != '\0' || port_fd < 0 || fcntl(port_fd, F_GETFD) < 0) {
        fprintf(stderr, "simavr_serial: %s is not an open file descriptor\n", argv[5]);
        return 2;
    }
    if (argc >= 7) realtime = strcmp(argv[6], "0") != 0;
    if (argc >= 8 && strcmp(argv[7], "-") != 0) exit_loop_pc = (avr_flashaddr_t)strtoul(argv[7], NULL, 0);
    if (argc >= 9 && (ee_in_fd = fd_arg(argv[8])) == BAD_FD) return 2;
    if (argc >= 10 && (ee_out_fd = fd_arg(argv[9])) == BAD_FD) return 2;
    fl = fcntl(port_fd, F_GETFL);
    if (fl < 0 || fcntl(port_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        fprintf(stderr, "simavr_serial: cannot make descriptor %d non-blocking\n", port_fd);
        return 2;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: a wait in poll() ends at once */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    avr = mlrn_untrusted_avr_load("simavr_serial", argv[1], argv[2], argv[4], &fw);
    if (!avr) return 2;
    uart = find_uart0(avr);
    if (!uart || avr->frequency == 0) {
        fprintf(stderr, "simavr_serial: %s has no USART0 or the clock is 0\n", argv[1]);
        return 2;
    }
    ee = eeprom_of(avr, &ee_size);
    if (ee) {
        memset(ee, ERASED, ee_size);       /* a new chip's EEPROM reads 0xFF */
        if (ee_in_fd >= 0 && read_image(ee_in_fd, ee, ee_size) < 0) {
            fprintf(stderr, "simavr_serial: cannot read the EEPROM image\n");
            return 2;
        }
    } else if (ee_in_fd >= 0 || ee_out_fd >= 0) {
        fprintf(stderr, "simavr_serial: %s has no EEPROM\n", argv[1]);
        return 2;
    }
    /* No console echo, and no usleep() when the firmware polls the UART. */
    avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
    flags &= ~(uint32_t)(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP);
    avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
    uart_rx = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), on_uart_out, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON), on_xon, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF), on_xoff, NULL);
    avr_register_io_write(avr, ADDR_GPIOR0, on_exit_code, NULL);
    avr_register_io_write(avr, R_SPL, on_sp_write, NULL);
    avr_register_io_write(avr, R_SPH, on_sp_write, NULL);
    fprintf(stderr, "@mlrn-simavr-serial ready\n");
    fflush(stderr);

    min_sp = (uint16_t)(avr->data[R_SPL] | (avr->data[R_SPH] << 8));
    start_ns = now_ns();
    while (!status) {
        avr_cycle_count_t slice_end = avr->cycle + SLICE_CYCLES;
        while (avr->cycle < slice_end) {
            avr_flashaddr_t pc = avr->pc;
            int state = avr_run(avr);
            sp = (uint16_t)(avr->data[R_SPL] | (avr->data[R_SPH] << 8));
            if (sp < min_sp && !sp_half_written) min_sp = sp;
            if (state == cpu_Done) {
                status = "exit";
                break;
            }
            if (state == cpu_Crashed) {
                status = "crash";
                break;
            }
            if (avr->pc == exit_loop_pc && pc == exit_loop_pc && !avr->sreg[S_I]) {
                if (drain_until == 0) drain_until = avr->cycle + DRAIN_CYCLES;
                if (avr->cycle >= drain_until) {
                    status = "exit_loop";
                    exit_code = avr->data[24] | (avr->data[25] << 8); /* main's return value, r24:r25 */
                    break;
                }
            }
        }
        flush_out();
        read_in();
        start_line();
        if (status) break;
        if (stop_requested) status = "terminated";
        else if (hangup) status = "hangup";
        else if (max_cycles && avr->cycle >= max_cycles) status = "cycle_limit";
        else if (realtime) keep_real_time(start_ns);
    }
    /* The bytes the firmware sent before the end reach the host, if it is reading. */
    drain_deadline = now_ns() + FINAL_DRAIN_MS * NS_PER_MS;
    while (out_len > 0 && !hangup && now_ns() < drain_deadline) {
        flush_out();
        if (out_len > 0) wait_writable(OUT_WAIT_MS);
    }
    fprintf(stderr, "\n@mlrn-simavr-serial status=%s exit_code=%d cycles=%llu rx_bytes=%llu tx_bytes=%llu "
            "rx_overruns=%llu rx_dropped=%llu frame_cycles=%llu min_sp=%u ramend=%u stack_bytes=%u pc=0x%lx\n",
            status, exit_code, (unsigned long long)avr->cycle, rx_bytes, tx_bytes, rx_overruns, rx_dropped,
            (unsigned long long)frame_cycles(), (unsigned)min_sp, (unsigned)avr->ramend, (unsigned)(avr->ramend - min_sp), (unsigned long)avr->pc);
    if (ee && ee_out_fd >= 0 && write_image(ee_out_fd, ee, ee_size) < 0)
        fprintf(stderr, "simavr_serial: cannot write the EEPROM image\n");
    avr_terminate(avr);
    return 0;
}
