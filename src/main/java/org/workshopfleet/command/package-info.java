/**
 * The commands, one class each ({@link org.workshopfleet.command.Up}, {@link org.workshopfleet.command.Plan},
 * {@link org.workshopfleet.command.Status}, {@link org.workshopfleet.command.Verify},
 * {@link org.workshopfleet.command.Teardown}, {@link org.workshopfleet.command.AllowIp},
 * {@link org.workshopfleet.command.Handout}, {@link org.workshopfleet.command.Extend},
 * {@link org.workshopfleet.command.Images}, {@link org.workshopfleet.command.RemoveImage}), each with one
 * {@code run(…)} that returns the exit code, over a shared {@link org.workshopfleet.command.WorkshopContext}; and what
 * they are wired to ({@link org.workshopfleet.command.Wiring}, the provider registry
 * {@link org.workshopfleet.command.Providers}). Never imports the root package or the command line.
 */
package org.workshopfleet.command;
