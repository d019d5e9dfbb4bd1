package org.workshopfleet.render;

import org.workshopfleet.spec.Provider;

/** PLACEHOLDER for the contract (the content helper's branch replaces this file): the machine's operating system. */
public enum OsProfile {
    UBUNTU_2204, DEBIAN_12;

    /** LAB machines run Debian 12, everything else Ubuntu 22.04. */
    public static OsProfile forProvider(Provider provider) {
        return provider == Provider.LAB ? DEBIAN_12 : UBUNTU_2204;
    }
}
