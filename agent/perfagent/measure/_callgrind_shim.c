/*
 * perfagent's bridge to callgrind's client requests, called from Python through ctypes.
 *
 * The client requests are macros that emit a magic instruction sequence valgrind
 * recognises; outside valgrind they do nothing and cost a few instructions, so this
 * library is safe to load anywhere. perfagent.measure.instructions compiles it on first use
 * (cc -shared -fPIC) into its cache directory, keyed by a hash of this source.
 */
#include <valgrind/callgrind.h>
#include <valgrind/valgrind.h>

/* Nonzero when the process runs under valgrind. */
int perfagent_running_on_valgrind(void) { return (int)RUNNING_ON_VALGRIND; }

/* Turn callgrind's instrumentation on (start-up and imports run without it). */
void perfagent_start_instrumentation(void) { CALLGRIND_START_INSTRUMENTATION; }

/* Turn it off again (the next benchmark's import and setup run without it). */
void perfagent_stop_instrumentation(void) { CALLGRIND_STOP_INSTRUMENTATION; }

/* Forget every count collected so far. */
void perfagent_zero_stats(void) { CALLGRIND_ZERO_STATS; }

/* Switch collection on or off: the measured call runs between two toggles. */
void perfagent_toggle_collect(void) { CALLGRIND_TOGGLE_COLLECT; }

/* Write the counts since the last zero or dump to a new numbered file, labelled. */
void perfagent_dump_stats(const char *label) { CALLGRIND_DUMP_STATS_AT(label); }
