// CaffeineBench — the Caffeine 2.6.2 peer for l1_bench and accelerator-sim (scripts/l1_compare.sh).
//
//   java -cp caffeine.jar:. CaffeineBench read THREADS SECONDS   -> items_per_second=...
//   java -cp caffeine.jar:. CaffeineBench replay TRACE.gz CAPACITY -> hit_ratio=...
//
// "read" is l1_bench's l1/read_zipf workload: capacity 2^20, pre-filled with keys 0..2^20-1,
// reads from the same 2^20 scrambled-Zipfian index array (same splitmix64 seed, YCSB formula,
// FNV-1a-64 scramble), each thread at a different offset; keys are pre-boxed so the loop
// measures the cache. The first half of SECONDS warms the JIT and is not counted.
// "replay" looks each key up and puts it on a miss, with maintenance run on the caller's thread
// (executor(Runnable::run)) so the result is deterministic.
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.zip.GZIPInputStream;

public final class CaffeineBench {
  static final int ITEMS = 1 << 20;

  static long splitmix(long[] state) {
    long z = (state[0] += 0x9E3779B97F4A7C15L);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  static long fnv1a64(long value) {
    long hash = 0xCBF29CE484222325L;
    for (int i = 0; i < 8; i++) {
      hash ^= value & 0xFF;
      hash *= 0x100000001B3L;
      value >>>= 8;
    }
    return hash;
  }

  static Long[] scrambledZipf(int count, long items, double theta) {
    double zetan = 0;
    for (long i = 1; i <= items; i++) zetan += 1.0 / Math.pow(i, theta);
    double zeta2 = 1.0 + 1.0 / Math.pow(2.0, theta);
    double alpha = 1.0 / (1.0 - theta);
    double eta = (1.0 - Math.pow(2.0 / items, 1.0 - theta)) / (1.0 - zeta2 / zetan);
    long[] state = {42};
    Long[] out = new Long[count];
    for (int n = 0; n < count; n++) {
      double u = (splitmix(state) >>> 11) * 0x1.0p-53;
      double uz = u * zetan;
      long rank;
      if (uz < 1.0) rank = 0;
      else if (uz < 1.0 + Math.pow(0.5, theta)) rank = 1;
      else rank = (long) (items * Math.pow(eta * u - eta + 1.0, alpha));
      out[n] = Long.remainderUnsigned(fnv1a64(rank), items);
    }
    return out;
  }

  static void read(int threads, double seconds) throws Exception {
    Cache<Long, Long> cache = Caffeine.newBuilder().maximumSize(ITEMS).build();
    for (long k = 0; k < ITEMS; k++) cache.put(k, k);
    Long[] keys = scrambledZipf(ITEMS, ITEMS, 0.99);
    LongAdder counted = new LongAdder();
    AtomicBoolean measuring = new AtomicBoolean(false), stop = new AtomicBoolean(false);
    Thread[] workers = new Thread[threads];
    for (int t = 0; t < threads; t++) {
      final int offset = t * (ITEMS / 16);
      workers[t] = new Thread(() -> {
        int i = offset;
        long ops = 0, found = 0;
        boolean counting = false;
        while (!stop.get()) {
          for (int n = 0; n < 1024; n++) {
            if (cache.getIfPresent(keys[i++ & (ITEMS - 1)]) != null) found++;
          }
          if (!counting && measuring.get()) {
            counting = true;
            ops = 0;
          }
          ops += 1024;
        }
        if (counting) counted.add(ops);
        if (found == 42) System.out.print("");
      });
      workers[t].start();
    }
    Thread.sleep((long) (seconds * 500));
    measuring.set(true);
    long start = System.nanoTime();
    Thread.sleep((long) (seconds * 500));
    stop.set(true);
    double elapsed = (System.nanoTime() - start) / 1e9;
    for (Thread w : workers) w.join();
    System.out.printf("items_per_second=%.0f%n", counted.sum() / elapsed);
  }

  static void replay(String path, long capacity) throws Exception {
    Cache<Long, Boolean> cache = Caffeine.newBuilder().maximumSize(capacity).executor(Runnable::run).build();
    long hits = 0, requests = 0;
    try (BufferedReader in = new BufferedReader(
             new InputStreamReader(new GZIPInputStream(new FileInputStream(path))))) {
      for (String line; (line = in.readLine()) != null;) {
        line = line.trim();
        if (line.isEmpty()) continue;
        Long key = Long.parseUnsignedLong(line);
        requests++;
        if (cache.getIfPresent(key) != null) hits++;
        else cache.put(key, Boolean.TRUE);
      }
    }
    System.out.printf("hit_ratio=%.4f%n", requests == 0 ? 0.0 : (double) hits / requests);
  }

  public static void main(String[] args) throws Exception {
    if (args.length == 3 && args[0].equals("read")) {
      read(Integer.parseInt(args[1]), Double.parseDouble(args[2]));
    } else if (args.length == 3 && args[0].equals("replay")) {
      replay(args[1], Long.parseLong(args[2]));
    } else {
      System.err.println("usage: CaffeineBench read THREADS SECONDS | replay TRACE.gz CAPACITY");
      System.exit(2);
    }
  }
}
