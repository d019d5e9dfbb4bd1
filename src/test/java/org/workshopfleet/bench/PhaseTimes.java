package org.workshopfleet.bench;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.provision.ProvisionPhase;

/**
 * Listens to the runner and keeps, in {@link System#nanoTime()}: when the first machine started provisioning (its SSH
 * connect), when the last machine was ready for its bundle (cloud-init finished: the end of booting, since lab boot
 * returns as soon as sshd answers), and per machine how long its upload plus steps took; and per machine when it
 * entered each phase, for {@link #spread()}.
 */
final class PhaseTimes implements ProvisionListener {

    private final AtomicLong firstConnect = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong lastUploadStart = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong lastEnd = new AtomicLong(Long.MIN_VALUE);
    private final Map<String, Long> uploadStart = new ConcurrentHashMap<>();
    private final Map<String, Long> work = new ConcurrentHashMap<>();
    private final Map<String, Map<ProvisionPhase, Long>> entered = new ConcurrentHashMap<>();

    @Override
    public void phase(int attendee, String machine, ProvisionPhase phase) {
        long now = System.nanoTime();
        entered.computeIfAbsent(machine, m -> java.util.Collections.synchronizedMap(new EnumMap<>(ProvisionPhase.class)))
                .put(phase, now);
        switch (phase) {
            case CONNECTING -> firstConnect.accumulateAndGet(now, Math::min);
            case UPLOADING -> {
                uploadStart.put(machine, now);
                lastUploadStart.accumulateAndGet(now, Math::max);
            }
            case DONE, FAILED -> {
                lastEnd.accumulateAndGet(now, Math::max);
                Long start = uploadStart.get(machine);
                if (start != null) {
                    work.put(machine, now - start);
                }
            }
            default -> { }
        }
    }

    /** Every machine's phase entries in seconds after the first machine's connect, one line per machine. */
    List<String> timeline() {
        long zero = firstConnect.get();
        List<String> lines = new ArrayList<>();
        entered.forEach((machine, phases) -> {
            StringBuilder s = new StringBuilder(machine);
            synchronized (phases) {
                phases.forEach((p, t) -> s.append(String.format(Locale.ROOT, " %s=%.2f", p, (t - zero) / 1e9)));
            }
            lines.add(s.toString());
        });
        lines.sort(null);
        return lines;
    }

    long firstConnectNanos() {
        return firstConnect.get();
    }

    /** When the last machine had finished cloud-init (Long.MIN_VALUE when none got there). */
    long allBootedNanos() {
        return lastUploadStart.get();
    }

    long lastEndNanos() {
        return lastEnd.get();
    }

    /** The slowest machine's upload + steps, in seconds. */
    double slowestMachineWorkSeconds() {
        return work.values().stream().mapToLong(Long::longValue).max().orElse(0) / 1e9;
    }

    /**
     * Where the machines' time went, phase by phase: the median and the largest time per machine from entering one
     * phase to entering the next, and how late the last machine started connecting after the first.
     */
    String spread() {
        ProvisionPhase[][] spans = {
                {ProvisionPhase.CONNECTING, ProvisionPhase.CLOUD_INIT},
                {ProvisionPhase.CLOUD_INIT, ProvisionPhase.UPLOADING},
                {ProvisionPhase.UPLOADING, ProvisionPhase.STEPS},
                {ProvisionPhase.STEPS, ProvisionPhase.DONE}};
        String[] names = {"connect+login", "cloud-init", "bundle transfer+unpack", "steps"};
        StringBuilder s = new StringBuilder("per machine, median/max:");
        for (int i = 0; i < spans.length; i++) {
            List<Long> d = new ArrayList<>();
            for (Map<ProvisionPhase, Long> m : entered.values()) {
                Long a = m.get(spans[i][0]);
                Long b = m.get(spans[i][1]);
                if (a != null && b != null) {
                    d.add(b - a);
                }
            }
            d.sort(null);
            s.append(String.format(Locale.ROOT, " %s %.2f/%.2f s;", names[i], d.isEmpty() ? 0 : d.get(d.size() / 2) / 1e9,
                    d.isEmpty() ? 0 : d.get(d.size() - 1) / 1e9));
        }
        List<Long> starts = new ArrayList<>();
        entered.values().forEach(m -> {
            Long c = m.get(ProvisionPhase.CONNECTING);
            if (c != null) {
                starts.add(c);
            }
        });
        starts.sort(null);
        s.append(String.format(Locale.ROOT, " last connect began %.2f s after the first",
                starts.isEmpty() ? 0 : (starts.get(starts.size() - 1) - starts.get(0)) / 1e9));
        return s.toString();
    }
}
