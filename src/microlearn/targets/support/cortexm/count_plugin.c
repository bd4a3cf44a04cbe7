/* count_plugin: a qemu TCG plugin counting the guest instructions executed
 * between two marker addresses (the entries of mlrn_target_mark_begin/end).
 *
 * usage: -plugin count_plugin.so,begin=0xADDR,end=0xADDR[,limit=N][,report_fd=N]  [-d plugin]
 * prints at exit (to qemu's log, shown with -d plugin, or to report_fd): "@instructions N" (last
 * begin..end pair; -1 if none), "@marked_total N" (sum over every begin..end pair), "@marked_pairs N", "@marked_span N"
 * (from the begin of the first pair to the end of the last one; -1 if none),
 * "@marked_unpaired N" (begins that never got their end) and "@total_instructions N".
 * limit=N (optional): once more than N instructions have run, the report is printed with
 * "@instruction_limit N" and qemu exits with status 3: a guest that never ends is stopped by its
 * own instruction count, not only by the host's wall clock. A thread of the plugin compares the
 * inline counter with N every millisecond, so the guest's code path is the same with and without a
 * limit (counts do not change, and no callback slows every block down); the run stops within about
 * a millisecond's worth of instructions after N.
 * report_fd=N (optional): the report goes to this inherited file descriptor instead of qemu's log
 * ("-d plugin", which shares stderr with the guest's semihosting console: a guest could print
 * report lines of its own there).
 *
 * Pairing: a begin opens a region, the next end closes it (one pair). A begin while a region
 * is open restarts it: the earlier begin is dropped (counted in marked_unpaired), so regions
 * never nest or overlap. An end with no open region is ignored; a region still open at exit
 * is not counted.
 *
 * Every executed instruction adds 1 to a counter with an inline TCG op (no call
 * into the plugin per instruction, so it stays fast); the two marker instructions
 * additionally get a callback that snapshots the counter. The count runs from the
 * first instruction of mark_begin up to, not including, the first of mark_end.
 *
 * costs=PATH (optional): a cycle model (targets/cycle_model.py). The file has one line per instruction,
 * "ADDR BASE PENALTY CATEGORY" (hex address, decimal numbers): every executed instruction adds BASE to a
 * cycle counter (inline, like the instruction count); an instruction with a PENALTY is a branch, and when
 * the next block executed does not start at its fall-through address (it was taken) PENALTY is added too.
 * CATEGORY 1 (divide) instructions are also counted, so the host can bound the estimate. The report then
 * has "@cycles_est", "@cycles_taken", "@cycles_div" (last region) and "@cycles_est_total",
 * "@cycles_taken_total", "@cycles_div_total" (all regions). An instruction missing from the file costs 1.
 *
 * Debian ships no qemu-plugin.h, so the few API declarations used are written out
 * here, following the QEMU 7.x plugin API (QEMU_PLUGIN_VERSION 1). */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t; /* only passed by pointer */
struct qemu_plugin_tb;
struct qemu_plugin_insn;

enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op, void *ptr,
                                                uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);

#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))
QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;

static uint64_t begin_addr = UINT64_MAX, end_addr = UINT64_MAX, limit = 0;
static int report_fd = -1; /* -1: qemu's log */
static uint64_t executed;   /* all guest instructions so far (single vCPU) */
static uint64_t at_begin;   /* `executed` when mark_begin was entered */
static int64_t region = -1; /* instructions of the last complete begin..end region */
static uint64_t total;      /* sum over all complete regions */
static uint64_t pairs;      /* number of complete regions */
static uint64_t unpaired;   /* begins dropped: restarted by another begin, or still open at exit */
static uint64_t first_begin, last_end; /* `executed` at the first pair's begin, at the last pair's end */
static int in_region;

/* The cycle model (costs=PATH). Counters: [0] cycles, [1] taken branches, [2] divides. */
enum { C_CYCLES, C_TAKEN, C_DIV, N_COUNTERS };
typedef struct {
    uint64_t addr;
    uint32_t base, penalty, category;
} cost_entry;
static cost_entry *costs;
static size_t n_costs;
static uint64_t counter[N_COUNTERS], counter_at_begin[N_COUNTERS];
static int64_t counter_region[N_COUNTERS] = {-1, -1, -1};
static uint64_t counter_total[N_COUNTERS];
typedef struct {
    uint64_t fallthrough;
    uint64_t penalty;
} branch_info;
static const branch_info *pending; /* the branch executed last, until the next block starts */

static void on_begin(unsigned int vcpu, void *udata) {
    (void)vcpu;
    (void)udata;
    if (in_region) unpaired++;
    at_begin = executed;
    memcpy(counter_at_begin, counter, sizeof counter);
    in_region = 1;
}

static void on_end(unsigned int vcpu, void *udata) {
    (void)vcpu;
    (void)udata;
    /* Both snapshots sit at the same point relative to their instruction's own
     * inline add, so the difference is begin (inclusive) .. end (exclusive). */
    if (in_region) {
        int k;
        region = (int64_t)(executed - at_begin);
        total += (uint64_t)region;
        for (k = 0; k < N_COUNTERS; k++) {
            counter_region[k] = (int64_t)(counter[k] - counter_at_begin[k]);
            counter_total[k] += (uint64_t)counter_region[k];
        }
        if (pairs == 0) first_begin = at_begin;
        last_end = executed;
        pairs++;
    }
    in_region = 0;
}

static void report_at_exit(qemu_plugin_id_t id, void *udata);

static void out(const char *text) {
    size_t n = strlen(text);
    ssize_t w;
    if (report_fd < 0) {
        qemu_plugin_outs(text);
        return;
    }
    while (n > 0 && (w = write(report_fd, text, n)) > 0) {
        text += w;
        n -= (size_t)w;
    }
}

static void *watch_limit(void *arg) {
    struct timespec ms = {0, 1000000};
    char line[64];
    (void)arg;
    while (__atomic_load_n(&executed, __ATOMIC_RELAXED) <= limit) nanosleep(&ms, NULL);
    report_at_exit(0, NULL);
    snprintf(line, sizeof line, "@instruction_limit %" PRIu64 "\n", limit);
    out(line);
    fflush(NULL);
    _exit(3);
    return NULL;
}

static const cost_entry *cost_of(uint64_t va) {
    size_t lo = 0, hi = n_costs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (costs[mid].addr < va) lo = mid + 1;
        else hi = mid;
    }
    return lo < n_costs && costs[lo].addr == va ? &costs[lo] : NULL;
}

/* A branch ran: remember where it falls through; the next block's start tells whether it was taken. */
static void on_branch(unsigned int vcpu, void *udata) {
    (void)vcpu;
    pending = (const branch_info *)udata;
}

static void on_block(unsigned int vcpu, void *udata) {
    (void)vcpu;
    if (pending != NULL && pending->fallthrough != (uint64_t)(uintptr_t)udata) {
        counter[C_CYCLES] += pending->penalty;
        counter[C_TAKEN]++;
    }
    pending = NULL;
}

static void add_costs(struct qemu_plugin_insn *insn, uint64_t va) {
    const cost_entry *c = cost_of(va);
    uint64_t base = c != NULL ? c->base : 1;
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &counter[C_CYCLES], base);
    if (c == NULL) return;
    if (c->category == 1)
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &counter[C_DIV], 1);
    if (c->penalty > 0) {
        /* One record per translation: a block is retranslated rarely, so this stays small. */
        branch_info *b = malloc(sizeof *b);
        if (b == NULL) return;
        b->fallthrough = va + qemu_plugin_insn_size(insn);
        b->penalty = c->penalty;
        qemu_plugin_register_vcpu_insn_exec_cb(insn, on_branch, QEMU_PLUGIN_CB_NO_REGS, b);
    }
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    size_t i, n = qemu_plugin_tb_n_insns(tb);
    (void)id;
    if (costs != NULL)
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, QEMU_PLUGIN_CB_NO_REGS,
                                             (void *)(uintptr_t)qemu_plugin_tb_vaddr(tb));
    for (i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t va = qemu_plugin_insn_vaddr(insn);
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &executed, 1);
        if (costs != NULL) add_costs(insn, va);
        if (va == begin_addr) qemu_plugin_register_vcpu_insn_exec_cb(insn, on_begin, QEMU_PLUGIN_CB_NO_REGS, NULL);
        if (va == end_addr) qemu_plugin_register_vcpu_insn_exec_cb(insn, on_end, QEMU_PLUGIN_CB_NO_REGS, NULL);
    }
}

static void report_at_exit(qemu_plugin_id_t id, void *udata) {
    char line[320];
    (void)id;
    (void)udata;
    snprintf(line, sizeof line,
             "@instructions %" PRId64 "\n@marked_total %" PRIu64 "\n@marked_pairs %" PRIu64 "\n@marked_span %" PRId64
             "\n@marked_unpaired %" PRIu64 "\n@total_instructions %" PRIu64 "\n",
             region, total, pairs, pairs ? (int64_t)(last_end - first_begin) : (int64_t)-1, unpaired + (uint64_t)in_region,
             executed);
    out(line);
    if (costs != NULL) {
        snprintf(line, sizeof line,
                 "@cycles_est %" PRId64 "\n@cycles_taken %" PRId64 "\n@cycles_div %" PRId64 "\n@cycles_est_total %" PRIu64
                 "\n@cycles_taken_total %" PRIu64 "\n@cycles_div_total %" PRIu64 "\n",
                 counter_region[C_CYCLES], counter_region[C_TAKEN], counter_region[C_DIV], counter_total[C_CYCLES],
                 counter_total[C_TAKEN], counter_total[C_DIV]);
        out(line);
    }
}

/* Reads the cost table (sorted by address, as targets/cycle_model.py writes it). */
static int load_costs(const char *path) {
    FILE *f = fopen(path, "r");
    size_t cap = 0;
    unsigned long long addr;
    unsigned base, penalty, category;
    if (f == NULL) return -1;
    while (fscanf(f, "%llx %u %u %u", &addr, &base, &penalty, &category) == 4) {
        if (n_costs == cap) {
            cost_entry *grown;
            cap = cap ? 2 * cap : 1024;
            grown = realloc(costs, cap * sizeof *costs);
            if (grown == NULL) {
                fclose(f);
                return -1;
            }
            costs = grown;
        }
        if (n_costs > 0 && addr <= costs[n_costs - 1].addr) {
            fclose(f);
            return -1; /* not sorted: the binary search would miss entries */
        }
        costs[n_costs].addr = addr;
        costs[n_costs].base = base;
        costs[n_costs].penalty = penalty;
        costs[n_costs].category = category;
        n_costs++;
    }
    fclose(f);
    if (costs == NULL) costs = malloc(sizeof *costs); /* an empty table still turns the model on */
    return costs != NULL ? 0 : -1;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv);

int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
    int i;
    (void)info;
    for (i = 0; i < argc; i++) {
        if (strncmp(argv[i], "begin=", 6) == 0) begin_addr = strtoull(argv[i] + 6, NULL, 0);
        else if (strncmp(argv[i], "end=", 4) == 0) end_addr = strtoull(argv[i] + 4, NULL, 0);
        else if (strncmp(argv[i], "limit=", 6) == 0) limit = strtoull(argv[i] + 6, NULL, 0);
        else if (strncmp(argv[i], "report_fd=", 10) == 0) report_fd = (int)strtol(argv[i] + 10, NULL, 0);
        else if (strncmp(argv[i], "costs=", 6) == 0) {
            if (load_costs(argv[i] + 6) != 0) {
                fprintf(stderr, "count_plugin: cannot read the cost table '%s'\n", argv[i] + 6);
                return -1;
            }
        }
        else {
            fprintf(stderr, "count_plugin: unknown argument '%s'\n", argv[i]);
            return -1;
        }
    }
    if (limit) {
        pthread_t watcher;
        if (pthread_create(&watcher, NULL, watch_limit, NULL) != 0) {
            fprintf(stderr, "count_plugin: cannot start the limit watcher\n");
            return -1;
        }
        pthread_detach(watcher);
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, report_at_exit, NULL);
    return 0;
}
