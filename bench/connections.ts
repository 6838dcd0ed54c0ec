/**
 * BENCH_POST_CONNECTIONS: how many connections the POST /api/feedback runs of bench:ingest and
 * bench:alerts hold open, a comma list, each measured in turn (default "10,50").
 *
 * Each connection waits for its answer, and an answer waits for its batch's fsync: at 10 the
 * figure is bound by that round trip as much as by the server's work (10 ÷ latency), while at 50
 * enough requests queue for each commit that the figure is the server's capacity on this machine.
 * The 10-connection figure is the one earlier runs printed.
 */
export function postConnections(): number[] {
  const raw = process.env.BENCH_POST_CONNECTIONS ?? "10,50";
  const counts = raw.split(",").map((s) => Number(s.trim()));
  if (counts.length === 0 || counts.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`BENCH_POST_CONNECTIONS must be a comma list of whole numbers of connections, not "${raw}"`);
  return counts;
}
