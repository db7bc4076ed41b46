package dev.kiln.tests.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The one fuzz driver, used by the smoke test in the default build, by the {@code fuzz} Maven profile's campaign
 * and to replay saved regression files. Each case is a pure function of (format, seed, case index): case
 * {@code i} picks a corpus seed and mutates it with a generator seeded from those three, so any case can be
 * made again without running the ones before it ({@link #caseInput}). Each case is imported and run on a
 * worker thread under a watchdog: more than {@link #HANG_LIMIT} of the worker's CPU time (or {@link #WALL_FACTOR}
 * times that in wall time) is a hang, after which the worker is abandoned and a new one started. Bad cases (other exception,
 * hang, OOM) are saved with a description when a save directory is given.
 */
public final class FuzzDriver {

    /** A case running longer than this is a hang. */
    static final Duration HANG_LIMIT = Duration.ofSeconds(5);
    /**
     * A case whose worker has not used {@link #HANG_LIMIT} of CPU time is a hang only after this many times the
     * limit in wall time: a starved worker (a loaded machine, a long GC) is not a hanging case.
     */
    static final int WALL_FACTOR = 12;
    /** Hangs after which a format's run stops: each leaves a spinning thread behind. */
    static final int MAX_HANGS = 4;

    private FuzzDriver() {}

    /** One bad case: where it came from, what happened, and where it was saved (or null). */
    public record BadCase(String format, long seed, long index, Outcome outcome, String signature, String description, Path saved) {}

    /** The counts of one run. */
    public record Report(String format, long seed, long cases, Map<Outcome, Long> counts, List<BadCase> bad,
                         Map<String, Long> signatures, Duration elapsed, String stoppedEarly, long notRun) {

        /** A Markdown table row: format, cases, each outcome's count (and how many OK cases were imported but not run), seconds. */
        public String row() {
            return String.format(Locale.ROOT, "| %s | %d | %d | %d | %d | %d | %d | %d | %.1f s |", format, cases, counts.get(Outcome.OK),
                    notRun, counts.get(Outcome.KILN_ERROR), counts.get(Outcome.OTHER_EXCEPTION), counts.get(Outcome.HANG),
                    counts.get(Outcome.OOM), elapsed.toMillis() / 1000.0);
        }

        public long badCount() { return counts.get(Outcome.OTHER_EXCEPTION) + counts.get(Outcome.HANG) + counts.get(Outcome.OOM); }

        /** The distinct bugs (signature: class and top frames) with their case counts, one per line. */
        public String bugs() {
            return signatures.entrySet().stream().map(e -> "  " + e.getValue() + " x " + e.getKey()).collect(Collectors.joining("\n"));
        }

        static String header() {
            return "| format | cases | ok | of which not run | Kiln error | other exception | hang | OOM | time |\n"
                    + "|---|---|---|---|---|---|---|---|---|";
        }
    }

    /** What one case did, with the throwable (or null) and, for a hang, the worker's stack at the time. */
    public record Result(Outcome outcome, Throwable error, StackTraceElement[] hangStack) {
        String signature() {
            StackTraceElement[] st = error != null ? error.getStackTrace() : hangStack;
            String what = switch (outcome) {
                case HANG -> "hang";
                case OOM -> "OutOfMemoryError";
                default -> error == null ? "" : error.getClass().getName();
            };
            return what + " at " + topFrames(st, 1) + firstKilnFrame(st);
        }

        String describe() {
            StringBuilder b = new StringBuilder(outcome.name());
            if (error != null) b.append(": ").append(error.getClass().getName()).append(": ").append(abbreviate(String.valueOf(error.getMessage()), 400));
            StackTraceElement[] st = error != null ? error.getStackTrace() : hangStack;
            if (st == null) return b.toString();
            int shown = 0, kiln = 0;
            for (int i = 0; i < st.length; i++) {    // the top frames, then Kiln's frames further down
                boolean isKiln = st[i].getClassName().startsWith("dev.kiln.") && !st[i].getClassName().startsWith("dev.kiln.tests.fuzz.");
                if (i < 8 || isKiln && kiln < 16) {
                    if (i >= 8 && shown < i) b.append("\n    ...");
                    b.append("\n    at ").append(st[i]);
                    shown = i + 1;
                    if (isKiln) kiln++;
                }
            }
            return b.toString();
        }
    }

    /**
     * The largest tensor a case may make (the {@code kiln.maxTensorBytes} budget, set per case): large enough for
     * every seed model, small enough that a case that asks for the most it may have is done in well under the
     * hang limit rather than zeroing gigabytes.
     */
    static final long CASE_MAX_TENSOR_BYTES = 256L << 20;

    /**
     * Runs {@code cases} cases of {@code target} from {@code seed}, stopping early at {@code timeLimit} or after
     * {@link #MAX_HANGS} hangs; saves at most {@code savePerSignature} bad cases per distinct bug under
     * {@code saveDir/<format>/} (none when {@code saveDir} is null).
     */

    public static Report run(FuzzTarget target, long cases, long seed, Duration timeLimit, Path saveDir, int savePerSignature) {
        return run(target, cases, seed, timeLimit, saveDir, savePerSignature, HANG_LIMIT);
    }

    /** {@link #run(FuzzTarget, long, long, Duration, Path, int)} with another hang limit (for the driver's own tests). */
    static Report run(FuzzTarget target, long cases, long seed, Duration timeLimit, Path saveDir, int savePerSignature, Duration hangLimit) {
        List<byte[]> corpus = target.seeds();
        if (corpus.isEmpty()) throw new IllegalStateException(target.name() + ": the seed corpus is empty");
        Map<Outcome, Long> counts = new EnumMap<>(Outcome.class);
        for (Outcome o : Outcome.values()) counts.put(o, 0L);
        List<BadCase> bad = new ArrayList<>();
        Map<String, Long> signatures = new LinkedHashMap<>();
        long notRunBefore = target.notRun();
        long start = System.nanoTime();
        long deadline = start + timeLimit.toNanos();
        String stopped = null;
        long done = 0;
        try (Watchdog dog = new Watchdog(hangLimit)) {
            for (long i = 0; i < cases; i++) {
                if (System.nanoTime() > deadline) {
                    stopped = "time limit " + timeLimit + " reached";
                    break;
                }
                if (counts.get(Outcome.HANG) >= MAX_HANGS) {
                    stopped = MAX_HANGS + " hangs";
                    break;
                }
                byte[] input = caseInput(target, corpus, seed, i);
                Result res = dog.run(target, input);
                done++;
                counts.merge(res.outcome(), 1L, Long::sum);
                if (res.outcome().isBad()) {
                    String sig = res.signature();
                    long seen = signatures.merge(sig, 1L, Long::sum);
                    Path saved = saveDir != null && seen <= savePerSignature ? save(saveDir, target, seed, i, input, res) : null;
                    bad.add(new BadCase(target.name(), seed, i, res.outcome(), sig, res.describe(), saved));
                }
            }
        }
        return new Report(target.name(), seed, done, counts, bad, signatures, Duration.ofNanos(System.nanoTime() - start), stopped,
                target.notRun() - notRunBefore);
    }

    /** Case {@code index} of the run from {@code seed}: a corpus seed, mutated; the same bytes every time. */
    public static byte[] caseInput(FuzzTarget target, List<byte[]> corpus, long seed, long index) {
        SplittableRandom r = new SplittableRandom(mix(seed, target.name().hashCode(), index));
        byte[] base = corpus.get(r.nextInt(corpus.size()));
        byte[] other = corpus.get(r.nextInt(corpus.size()));
        return target.mutate(base, other, r);
    }

    /** Imports and runs one input under the watchdog (for replaying saved cases). */
    public static Result replay(FuzzTarget target, byte[] input) {
        try (Watchdog dog = new Watchdog(HANG_LIMIT)) {
            return dog.run(target, input);
        }
    }

    private static long mix(long seed, long format, long index) {
        long z = seed * 0x9E3779B97F4A7C15L + format * 0xC2B2AE3D27D4EB4FL + index * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static Path save(Path saveDir, FuzzTarget target, long seed, long index, byte[] input, Result res) {
        try {
            Path dir = Files.createDirectories(saveDir.resolve(target.name()));
            String base = "s" + seed + "-c" + index;
            Path file = dir.resolve(base + "." + target.extension());
            Files.write(file, input);
            Files.writeString(dir.resolve(base + ".txt"), "format " + target.name() + ", seed " + seed + ", case " + index
                    + " (FuzzDriver.caseInput)\n" + res.describe() + "\n", StandardCharsets.UTF_8);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save a fuzz case under " + saveDir + ": " + e, e);
        }
    }

    static String topFrames(StackTraceElement[] st, int n) {
        if (st == null || st.length == 0) return "?";
        return Arrays.stream(st).limit(n).map(f -> f.getClassName().substring(f.getClassName().lastIndexOf('.') + 1) + "." + f.getMethodName()
                + ":" + f.getLineNumber()).collect(Collectors.joining(" < "));
    }

    /** " in Class.method:line", the first frame in Kiln's code (the fuzz harness aside) below the top one, or "". */
    static String firstKilnFrame(StackTraceElement[] st) {
        if (st == null) return "";
        for (int i = 1; i < st.length; i++) {
            String c = st[i].getClassName();
            if (c.startsWith("dev.kiln.") && !c.startsWith("dev.kiln.tests.fuzz.")) return " in " + topFrames(new StackTraceElement[] {st[i]}, 1);
        }
        return "";
    }

    private static String abbreviate(String s, int max) { return s.length() <= max ? s : s.substring(0, max) + "..."; }

    /**
     * Runs cases on one worker thread at a time. A case over the limit is a hang: the worker is interrupted and
     * abandoned (a daemon thread; Java cannot stop it), and the next case gets a new worker and work directory.
     */
    static final class Watchdog implements AutoCloseable {
        private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
        private final Path root;
        private final long limit;
        private Worker worker;
        private int generation;

        Watchdog(Duration limit) {
            this.limit = limit.toNanos();
            try {
                root = Files.createTempDirectory("kiln-fuzz");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        Result run(FuzzTarget target, byte[] input) {
            if (worker == null) worker = new Worker(root.resolve("w" + generation++));
            Worker w = worker;
            w.requests.add(new Request(target, input));
            long wallStart = System.nanoTime();
            long cpuStart = cpuTime(w.thread);
            while (true) {
                Result r;
                try {
                    r = w.results.poll(100, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for a fuzz case", e);
                }
                if (r != null) return r;
                long wall = System.nanoTime() - wallStart;
                long cpu = cpuTime(w.thread) - cpuStart;
                if (wall > limit && (cpu > limit || wall > WALL_FACTOR * limit || cpu < 0)) {
                    StackTraceElement[] stack = w.thread.getStackTrace();
                    w.thread.interrupt();
                    worker = null;      // abandoned
                    return new Result(Outcome.HANG, null, stack);
                }
            }
        }

        private static long cpuTime(Thread t) {
            try {
                return THREADS.isThreadCpuTimeSupported() ? THREADS.getThreadCpuTime(t.threadId()) : -1;
            } catch (UnsupportedOperationException e) {
                return -1;
            }
        }

        @Override
        public void close() {
            if (worker != null) worker.thread.interrupt();
            worker = null;
        }
    }

    private record Request(FuzzTarget target, byte[] input) {}

    private static final class Worker {
        final BlockingQueue<Request> requests = new ArrayBlockingQueue<>(1);
        final BlockingQueue<Result> results = new ArrayBlockingQueue<>(1);
        final Thread thread;

        Worker(Path work) {
            thread = Thread.ofPlatform().daemon().name("kiln-fuzz-worker").start(() -> {
                try {
                    Files.createDirectories(work);
                    while (true) {
                        Request req = requests.take();
                        results.add(execute(req, work));
                    }
                } catch (InterruptedException | IOException e) {
                    // closed or abandoned
                }
            });
        }

        private static Result execute(Request req, Path work) {
            // the budget a server taking models from strangers would set: no tensor may claim more than this
            long before = dev.kiln.runtime.TensorLimits.setMaxTensorBytes(CASE_MAX_TENSOR_BYTES);
            try {
                req.target().execute(req.input(), work);
                return new Result(Outcome.OK, null, null);
            } catch (Throwable t) {
                return new Result(Outcome.of(t), t, null);
            } finally {
                dev.kiln.runtime.TensorLimits.setMaxTensorBytes(before);
            }
        }
    }
}
