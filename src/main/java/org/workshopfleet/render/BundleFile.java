package org.workshopfleet.render;

/** PLACEHOLDER for the contract (the content helper's branch replaces this file): one file of a bundle. */
public record BundleFile(String path, byte[] content, int mode) {
}
