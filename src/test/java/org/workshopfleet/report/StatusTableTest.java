package org.workshopfleet.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.workshopfleet.command.Providers;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.MachineState;
import org.workshopfleet.state.LedgerData;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.MachineRecord;

class StatusTableTest {

    private final Instant now = Instant.parse("2026-11-25T10:00:00Z");
    private final PriceTable prices = PriceTable.load();

    private Instant ago(int minutes) {
        return now.minus(Duration.ofMinutes(minutes));
    }

    private MachineRecord record(int n, String ip, MachinePhase phase, String step, List<String> done, String error,
                                 Instant launched) {
        return new MachineRecord(n, "ebpf-php-0" + n, "i-" + n, null, ip, phase, step, done, error, List.of(), launched, now);
    }

    private Machine machine(int n, String ip, MachineState state, String type, Instant launched) {
        return new Machine("i-" + n, "ebpf-php-0" + n, n, state, ip, type, launched);
    }

    @Test
    void joinsLedgerAndCloudIntoOneRowPerMachineWithTotals() {
        Map<Integer, MachineRecord> records = Map.of(
                1, record(1, "203.0.113.11", MachinePhase.READY, null, List.of("01-base"), null, ago(120)),
                2, record(2, "203.0.113.12", MachinePhase.FAILED, "05-grafana", List.of(),
                        "grafana did not answer on port 3000 within 120 seconds after the restart", ago(120)),
                3, record(3, "203.0.113.13", MachinePhase.PROVISIONING, "04-prometheus", List.of("a", "b", "c"), null,
                        ago(30)),
                4, record(4, "203.0.113.14", MachinePhase.READY, null, List.of(), null, ago(120)),
                5, record(5, "203.0.113.15", MachinePhase.BOOTING, null, List.of(), null, ago(1)));
        LedgerData ledger = new LedgerData(1, "ebpf-php", "ec2", "ap-northeast-1", ago(180), null, List.of(), records,
                Map.of(Expiry.SETTING, now.plus(Duration.ofHours(10)).toString()));
        List<Machine> live = List.of(
                machine(1, "203.0.113.11", MachineState.RUNNING, "t3.medium", ago(120)),
                machine(2, "203.0.113.12", MachineState.RUNNING, "t3.medium", ago(120)),
                machine(3, "203.0.113.13", MachineState.RUNNING, "t3a.medium", ago(30)),
                // 4 is in the ledger but the cloud no longer has it.
                machine(5, null, MachineState.PENDING, "x9.huge", ago(1)),
                machine(7, "203.0.113.17", MachineState.RUNNING, "t3.medium", ago(60)));

        String table = StatusTable.render(Providers.ofLedger(ledger.provider()), ledger, live, prices, now);

        // Check row content cell by cell rather than exact spacing (widths follow the longest cell).
        String[] lines = table.split("\n");
        assertEquals("Workshop ebpf-php (ec2, ap-northeast-1)", lines[0]);
        assertTrue(lines[1].matches("MACHINE +IP +TYPE +CLOUD +PROGRESS +AGE +EXPIRY +COST"), lines[1]);
        assertRow(lines[2], "ebpf-php-01", "203.0.113.11", "t3.medium", "running", "ready", "2h00m", "10h00m left", "$0.109");
        assertRow(lines[3], "ebpf-php-02", "203.0.113.12", "t3.medium", "running",
                "FAILED at 05-grafana: grafana did not answer on port 3000 within 12…", "2h00m", "10h00m left", "$0.109");
        assertRow(lines[4], "ebpf-php-03", "203.0.113.13", "t3a.medium", "running", "provisioning 04-prometheus (3 done)", "30m00s",
                "10h00m left", "$0.025");
        assertRow(lines[5], "ebpf-php-04", "203.0.113.14", "?", "gone", "ready", "2h00m", "-", "-");
        assertRow(lines[6], "ebpf-php-05", "203.0.113.15", "x9.huge", "pending", "booting", "1m00s", "10h00m left", "?");
        assertRow(lines[7], "ebpf-php-07", "203.0.113.17", "t3.medium", "running", "not in ledger", "1h00m", "10h00m left", "$0.054");
        assertEquals("Total: 6 machines, 2 ready, 1 failed, 2 working; 5 in the cloud; spent $0.297 + 1 machine of"
                + " unknown price (x9.huge not in the price table), now $0.212/h (list price, " + prices.asOf() + "); expiry 2026-11-25T20:00:00Z"
                + " 10h00m left", lines[8]);
        assertEquals(9, lines.length);
        // Fixed width: every column starts at the same offset on every row.
        int costColumn = lines[1].indexOf("COST");
        for (int i = 2; i < 8; i++) {
            assertEquals(' ', lines[i].charAt(costColumn - 1), "row " + i + " aligned");
            assertTrue(lines[i].charAt(costColumn) == '$' || lines[i].charAt(costColumn) == '?'
                    || lines[i].charAt(costColumn) == '-', lines[i]);
        }
    }

    @Test
    void expiredFleetAndLabWithoutCost() {
        Map<Integer, MachineRecord> records = Map.of(1, record(1, "10.231.0.2", MachinePhase.READY, null, List.of(), null,
                ago(600)));
        LedgerData ledger = new LedgerData(1, "lab-test", "lab", "ap-northeast-1", ago(700), null, List.of(), records,
                Map.of(Expiry.SETTING, ago(15).toString()));
        String table = StatusTable.render(Providers.ofLedger(ledger.provider()), ledger, List.of(machine(1, "10.231.0.2", MachineState.RUNNING, "lab", ago(600))),
                prices, now);
        String[] lines = table.split("\n");
        assertEquals("Workshop lab-test (lab)", lines[0]);
        assertRow(lines[2], "ebpf-php-01", "10.231.0.2", "lab", "running", "ready", "10h00m", "expired 15m00s ago", "$0.00");
        assertTrue(lines[3].endsWith("spent $0.00, now $0.00/h (list price, " + prices.asOf()
                + "); expiry 2026-11-25T09:45:00Z expired 15m00s ago"), lines[3]);
    }

    @Test
    void aMachineIsPricedAtItsRecordedTypeWhenTheCloudDoesNotSay() {
        Map<Integer, MachineRecord> records = Map.of(
                1, new MachineRecord(1, "ebpf-php-01", "i-1", "t3a.medium", "203.0.113.11", MachinePhase.READY, null,
                        List.of(), null, List.of(), ago(60), now),
                2, record(2, "203.0.113.12", MachinePhase.READY, null, List.of(), null, ago(60)));
        LedgerData ledger = new LedgerData(1, "ebpf-php", "ec2", "ap-northeast-1", ago(180), null, List.of(), records,
                Map.of());
        String table = StatusTable.render(Providers.ofLedger(ledger.provider()), ledger, List.of(
                machine(1, "203.0.113.11", MachineState.RUNNING, null, ago(60)),
                machine(2, "203.0.113.12", MachineState.RUNNING, null, ago(60))), prices, now);
        String[] lines = table.split("\n");
        assertRow(lines[2], "ebpf-php-01", "203.0.113.11", "t3a.medium", "running", "ready", "1h00m", "-", "$0.049");
        assertRow(lines[3], "ebpf-php-02", "203.0.113.12", "?", "running", "ready", "1h00m", "-", "?");
        assertTrue(lines[4].contains("spent $0.049 + 1 machine of unknown price (type not reported), now $0.049/h"),
                lines[4]);
    }

    @Test
    void typeColumnShowsTheCloudsTypeElseTheRecordedOneElseWhyItIsMissing() {
        Map<Integer, MachineRecord> records = Map.of(
                // Recorded t3.medium, but the cloud reports t3a.medium: the cloud's answer is the one priced and shown.
                1, new MachineRecord(1, "ebpf-php-01", "i-1", "t3.medium", "203.0.113.11", MachinePhase.READY, null,
                        List.of(), null, List.of(), ago(60), now),
                // Gone from the cloud: only the ledger still knows what it was.
                2, new MachineRecord(2, "ebpf-php-02", "i-2", "t2.medium", "203.0.113.12", MachinePhase.READY, null,
                        List.of(), null, List.of(), ago(60), now),
                // Not launched yet: no type to show, and none missing.
                3, new MachineRecord(3, "ebpf-php-03", null, null, null, MachinePhase.PLANNED, null, List.of(), null,
                        List.of(), null, now));
        LedgerData ledger = new LedgerData(1, "ebpf-php", "ec2", "ap-northeast-1", ago(180), null, List.of(), records,
                Map.of());
        String[] lines = StatusTable.render(Providers.ofLedger(ledger.provider()), ledger, List.of(
                machine(1, "203.0.113.11", MachineState.RUNNING, "t3a.medium", ago(60))), prices, now).split("\n");
        assertRow(lines[2], "ebpf-php-01", "203.0.113.11", "t3a.medium", "running", "ready", "1h00m", "-", "$0.049");
        assertRow(lines[3], "ebpf-php-02", "203.0.113.12", "t2.medium", "gone", "ready", "1h00m", "-", "-");
        assertRow(lines[4], "ebpf-php-03", "-", "-", "-", "planned", "-", "-", "-");
    }

    private static void assertRow(String line, String... cells) {
        String[] got = line.trim().split(" {2,}");
        assertEquals(List.of(cells), List.of(got), line);
    }
}
