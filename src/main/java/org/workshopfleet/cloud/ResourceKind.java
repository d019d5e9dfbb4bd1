package org.workshopfleet.cloud;

/** Kinds of resource the tool creates, in teardown order (machines first). */
public enum ResourceKind {
    INSTANCE, SECURITY_GROUP, KEY_PAIR, IMAGE, SNAPSHOT, LAB_MACHINE, LAB_NETWORK
}
