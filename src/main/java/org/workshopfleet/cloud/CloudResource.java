package org.workshopfleet.cloud;

/**
 * A resource the tool created and must remove.
 *
 * @param kind     what it is
 * @param id       the cloud's id (instance id, sg id, key name, Lightsail name, lab machine name)
 * @param name     human name, may equal id
 * @param attendee attendee number, or 0 for shared resources
 */
public record CloudResource(ResourceKind kind, String id, String name, int attendee) {
}
