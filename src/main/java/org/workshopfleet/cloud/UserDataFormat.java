package org.workshopfleet.cloud;

/** The form of first-boot configuration a cloud accepts. */
public enum UserDataFormat {
    /** A {@code #cloud-config} YAML document (EC2, the lab's NoCloud seed). */
    CLOUD_CONFIG,
    /** A shell script run at first boot (Lightsail's launch script). */
    SHELL_SCRIPT
}
