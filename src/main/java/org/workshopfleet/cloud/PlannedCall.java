package org.workshopfleet.cloud;

/**
 * One operation {@code up} makes on a provider, as {@code plan} lists it.
 *
 * @param operation the API action as the provider names it ({@code RunInstances}, {@code CreateInstances}), or the
 *                  host command for the lab
 * @param what      what it is for and with which values, one line
 */
public record PlannedCall(String operation, String what) {
}
