package org.workshopfleet.provision;

import java.util.List;

/**
 * How one machine ended.
 *
 * @param attendee           attendee number
 * @param name               machine name
 * @param host               address it was reached on
 * @param ok                 true when every step ran and dashboards are in
 * @param failedStep         failing step or phase ({@code ssh}, {@code cloud-init}, {@code upload}, a step name,
 *                           {@code grafana}, {@code ebpf_exporter}); null when ok
 * @param error              one-line reason; null when ok
 * @param logTail            last lines of the machine's log when failed
 * @param ebpfExporterSha256 the hash the machine observed for the exporter binary, or null
 */
public record MachineResult(int attendee, String name, String host, boolean ok, String failedStep, String error,
                            List<String> logTail, String ebpfExporterSha256) {

    public MachineResult {
        logTail = logTail == null ? List.of() : List.copyOf(logTail);
    }

    static MachineResult ready(MachineJob job, String ebpfSha) {
        return new MachineResult(job.attendee(), job.name(), job.target().host(), true, null, null, List.of(), ebpfSha);
    }

    static MachineResult failed(MachineJob job, String step, String error, List<String> tail) {
        return new MachineResult(job.attendee(), job.name(), job.target().host(), false, step, error, tail, null);
    }

    /** This result turned into a failure (the machine ran, but a fleet-wide check refused it). */
    public MachineResult failedAfterwards(String step, String why) {
        return new MachineResult(attendee, name, host, false, step, why, logTail, ebpfExporterSha256);
    }
}
