package org.workshopfleet.spec;

/**
 * The operating systems a workshop machine may run, and the facts that differ between them (docs/machine.md,
 * "Ubuntu 22.04 and Debian 12"). Templates read these values; there is never a copy of a template per OS.
 * The setup scripts detect the same facts on the machine and refuse a bundle rendered for another OS.
 */
public enum OsProfile {
    /** Production: EC2 and Lightsail. */
    UBUNTU_2204("ubuntu", "22.04", "Ubuntu 22.04", "8.1"),
    /** The lab and the tests. */
    DEBIAN_12("debian", "12", "Debian 12", "8.2");

    private final String osId;
    private final String versionId;
    private final String label;
    private final String phpVersion;

    OsProfile(String osId, String versionId, String label, String phpVersion) {
        this.osId = osId;
        this.versionId = versionId;
        this.label = label;
        this.phpVersion = phpVersion;
    }


    /** {@code ID} in /etc/os-release. */
    public String osId() {
        return osId;
    }

    /** {@code VERSION_ID} in /etc/os-release. */
    public String versionId() {
        return versionId;
    }

    /** Human-readable name, e.g. {@code Ubuntu 22.04}. */
    public String label() {
        return label;
    }

    /** The PHP the distribution ships: 8.1 on jammy, 8.2 on bookworm. */
    public String phpVersion() {
        return phpVersion;
    }

    /** Apache's PHP module, where the USDT probes live. */
    public String phpModulePath() {
        return "/usr/lib/apache2/modules/libphp" + phpVersion + ".so";
    }

    /** {@code <ID>-<VERSION_ID>}: what {@code FLEET_OS} in fleet.env holds and scripts/lib.sh compares. */
    public String fleetOs() {
        return osId + "-" + versionId;
    }
}
