/**
 * The command line: {@link org.workshopfleet.cli.Main} reads the {@code -D} properties
 * ({@link org.workshopfleet.cli.Options}, {@link org.workshopfleet.cli.UnknownProperties}), asks on the terminal, and
 * runs one command on {@link org.workshopfleet.Fleet}.
 */
package org.workshopfleet.cli;
