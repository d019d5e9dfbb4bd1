package org.workshopfleet.render;

/** PLACEHOLDER for the contract (the content helper's branch replaces this file): one numbered setup step. */
public record SetupStep(String name, String script, String contentHash) {
}
