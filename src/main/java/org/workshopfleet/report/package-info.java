/**
 * What the facilitator sees: live progress, the attendee handout, the status table, cost and expiry.
 *
 * <p>Wiring, as the command uses it:
 * <pre>{@code
 * // before confirming `up`
 * PriceTable prices = PriceTable.load();
 * out.println(PlanSummary.line(spec, toCreate, prices, ingressRules, cidr));
 *
 * // during `up` / `teardown`
 * // each machine at the price of the type it was launched with; `firstType` for ledgers that do not record it
 * try (ProgressBoard board = new ProgressBoard(System.out, ProgressBoard.Mode.detect(), clock, title)
 *         .costSource(() -> FleetSpend.fromLedger(ledger.snapshot(), prices, spec.provider(), spec.region(),
 *                 firstType, clock.instant())).start()) {
 *     board.expect(n, name);                                  // for every machine
 *     board.update(ProgressEvent.stage(n, name, Stage.BOOTING, "waiting for SSH"));
 *     board.update(ProgressEvent.step(n, name, 4, 9, "04-prometheus"));
 *     board.update(ProgressEvent.failed(n, name, "05-grafana", reason));   // or ProgressEvent.ready(n, name)
 * }
 *
 * // -Daction=handout (and at the end of `up`)
 * Path page = Handout.fromLedger(ledger.snapshot(), secrets, Handout.DEFAULT_TITLE, clock.instant()).writeTo(folder);
 *
 * // -Daction=status
 * out.print(StatusTable.render(ledger.snapshot(), cloud.listNodes(), prices, clock.instant()));
 * }</pre>
 * The fleet's expiry is read from the ledger setting {@link org.workshopfleet.report.Expiry#SETTING}, which {@code up}
 * and {@code extend} write as an ISO-8601 instant.
 */
package org.workshopfleet.report;
