package org.workshopfleet.report;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.ProviderProfile;
import org.workshopfleet.state.LedgerData;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.MachineRecord;

/**
 * The {@code status} table: one row per attendee machine, from the ledger joined with what the cloud reports now, and a
 * totals line. A pure function of its inputs, so it can be checked without a cloud.
 *
 * <p>Columns: machine, IP, instance type or Lightsail bundle (as the cloud reports it, else as the ledger recorded it at
 * launch; {@code ?} when neither says, as for machines launched before the ledger recorded types; {@code -} before
 * launch), cloud state ({@code gone} when the ledger knows a machine the cloud no longer has), progress (ready / failed
 * at which step and why / where it is), age since launch, time left before expiry, spend so far at list price of the
 * type shown (fleets can be mixed when EC2 falls back to other types); a type the price table lacks is shown as
 * {@code ?} and named in the totals line. A machine the cloud has but the ledger does not is shown as
 * {@code not in ledger}: teardown still removes it (it is found by tag). A spare is named {@code (spare)}, and a
 * machine serving another seat than its own number (after a replace) names that seat.
 */
public final class StatusTable {

    private static final int MAX_ERROR = 48;
    /** Key of machines whose type neither the cloud nor the ledger gives. */
    private static final String NO_TYPE = "";

    private StatusTable() {
    }

    /**
     * As {@link #render(ProviderProfile, LedgerData, List, PriceTable, Expiry, Instant)} with the expiry recorded in the
     * ledger.
     */
    public static String render(ProviderProfile provider, LedgerData ledger, List<Machine> live, PriceTable prices,
                                Instant now) {
        return render(provider, ledger, live, prices, Expiry.fromLedger(ledger), now);
    }

    /**
     * @param provider the profile of the provider the ledger names
     * @param ledger the workshop's ledger
     * @param live   the machines the cloud lists now ({@code Cloud.listNodes()})
     * @param expiry the fleet's expiry, or null if unknown
     */
    public static String render(ProviderProfile provider, LedgerData ledger, List<Machine> live, PriceTable prices,
                                Expiry expiry, Instant now) {
        Map<Integer, MachineRecord> records = new TreeMap<>(ledger.machines());
        Map<Integer, Machine> cloud = new TreeMap<>();
        List<Machine> unnumbered = new ArrayList<>();
        for (Machine m : live) {
            if (m.attendee() > 0) {
                cloud.put(m.attendee(), m);
            } else {
                unnumbered.add(m);
            }
        }
        SortedSet<Integer> attendees = new TreeSet<>(records.keySet());
        attendees.addAll(cloud.keySet());

        TextTable table = new TextTable("MACHINE", "IP", "TYPE", "CLOUD", "PROGRESS", "AGE", "EXPIRY", "COST");
        int ready = 0;
        int failed = 0;
        int working = 0;
        int running = 0;
        double spent = 0;
        double perHour = 0;
        SortedMap<String, Integer> unpriced = new TreeMap<>();
        for (int n : attendees) {
            MachineRecord r = records.get(n);
            Machine m = cloud.get(n);
            List<Machine> rowMachines = m == null ? List.of() : List.of(m);
            String name = r != null ? label(r) : m.name();
            if (r != null && r.phase() == MachinePhase.READY) {
                ready++;
            } else if (r != null && r.phase() == MachinePhase.FAILED) {
                failed++;
            } else if (r != null && r.phase() != MachinePhase.DESTROYED) {
                working++;
            }
            Row row = row(name, r, rowMachines, provider, ledger.region(), prices, expiry, now);
            table.row(row.cells);
            if (m != null && !m.state().isGone()) {
                running++;
            }
            spent += row.spent;
            perHour += row.perHour;
            row.countUnpriced(unpriced);
        }
        for (Machine m : unnumbered) {
            Row row = row(m.name(), null, List.of(m), provider, ledger.region(), prices, expiry, now);
            table.row(row.cells);
            running += m.state().isGone() ? 0 : 1;
            spent += row.spent;
            perHour += row.perHour;
            row.countUnpriced(unpriced);
        }

        StringBuilder sb = new StringBuilder();
        sb.append("Workshop ").append(ledger.workshop()).append(" (").append(ledger.provider());
        if (provider.regional()) {
            sb.append(", ").append(ledger.region());
        }
        sb.append(')').append(ledger.isClosed() ? ": torn down " + ledger.closedAt().truncatedTo(ChronoUnit.SECONDS) : "")
                .append('\n');
        sb.append(table.render());
        sb.append(String.format(Locale.ROOT, "Total: %d machine%s, %d ready, %d failed, %d working; %d in the cloud",
                attendees.size() + unnumbered.size(), attendees.size() + unnumbered.size() == 1 ? "" : "s",
                ready, failed, working, running));
        sb.append("; spent ").append(Money.usd(spent));
        int unpricedMachines = unpriced.values().stream().mapToInt(Integer::intValue).sum();
        if (unpricedMachines > 0) {
            List<String> why = new ArrayList<>();
            List<String> types = unpriced.keySet().stream().filter(t -> !t.equals(NO_TYPE)).toList();
            if (!types.isEmpty()) {
                why.add(String.join(", ", types) + " not in the price table");
            }
            if (unpriced.containsKey(NO_TYPE)) {
                why.add("type not reported");
            }
            sb.append(" + ").append(unpricedMachines).append(" machine").append(unpricedMachines == 1 ? "" : "s")
                    .append(" of unknown price (").append(String.join("; ", why)).append(')');
        }
        sb.append(", now ").append(Money.usd(perHour)).append("/h (list price, ").append(prices.asOf()).append(')');
        if (expiry != null) {
            sb.append("; expiry ").append(expiry.at().truncatedTo(ChronoUnit.SECONDS)).append(' ')
                    .append(expiry.describe(now));
        } else {
            sb.append("; expiry unknown");
        }
        sb.append('\n');
        return sb.toString();
    }

    /** One table row and its money: {@code unpricedType} names the type the price table lacks, if so. */
    private record Row(String[] cells, double spent, double perHour, String unpricedType) {
        void countUnpriced(Map<String, Integer> byType) {
            if (unpricedType != null) {
                byType.merge(unpricedType, 1, Integer::sum);
            }
        }
    }

    private static Row row(String name, MachineRecord r, List<Machine> cloudMachine, ProviderProfile provider, String region,
                           PriceTable prices, Expiry expiry, Instant now) {
        Machine m = cloudMachine.isEmpty() ? null : cloudMachine.get(0);
        String ip = m != null && m.publicIp() != null ? m.publicIp() : r != null && r.publicIp() != null ? r.publicIp() : "-";
        String state = m != null ? m.state().name().toLowerCase(Locale.ROOT).replace('_', '-')
                : r != null && r.cloudId() != null && r.phase() != MachinePhase.PLANNED ? "gone" : "-";
        Instant launched = m != null && m.launchedAt() != null ? m.launchedAt() : r != null ? r.launchedAt() : null;
        String age = launched == null ? "-" : DurationText.compact(Duration.between(launched, now));
        boolean alive = m != null && !m.state().isGone();
        String left = !alive || expiry == null ? "-" : expiry.describe(now);
        // The cloud's own answer first; the type recorded at launch when the cloud does not say.
        String size = m != null && m.instanceType() != null ? m.instanceType() : r != null ? r.instanceType() : null;
        String type = size != null ? size : m == null && r != null && r.cloudId() == null ? "-" : "?";
        String cost = "-";
        double spent = 0;
        double perHour = 0;
        String unpriced = null;
        if (alive) {
            Optional<PriceTable.Price> price = prices.hourly(provider, region, size);
            if (price.isPresent()) {
                spent = CostEstimate.billedHours(launched, now) * price.get().usdPerHour();
                perHour = price.get().usdPerHour();
                cost = Money.usd(spent);
            } else {
                cost = "?";
                unpriced = size == null ? NO_TYPE : size;
            }
        }
        return new Row(new String[] {name, ip, type, state, progress(r), age, left, cost}, spent, perHour, unpriced);
    }

    /** The machine's name, with its seat when that is not its own number, or {@code (spare)}. */
    private static String label(MachineRecord r) {
        if (r.isSpare()) {
            return r.name() + " (spare)";
        }
        return r.seatNumber() == r.attendee() ? r.name()
                : r.name() + String.format(Locale.ROOT, " (seat %02d)", r.seatNumber());
    }

    private static String progress(MachineRecord r) {
        if (r == null) {
            return "not in ledger";
        }
        return switch (r.phase()) {
            case READY -> "ready";
            case FAILED -> {
                String why = r.error() == null ? "" : ": " + TerminalText.clean(r.error());
                if (why.length() > MAX_ERROR) {
                    why = why.substring(0, MAX_ERROR - 1) + "…";
                }
                yield "FAILED" + (r.step() == null ? "" : " at " + TerminalText.clean(r.step())) + why;
            }
            case PROVISIONING -> "provisioning" + (r.step() == null ? "" : " " + r.step())
                    + " (" + r.stepsDone().size() + " done)";
            default -> r.phase().name().toLowerCase(Locale.ROOT);
        };
    }
}
