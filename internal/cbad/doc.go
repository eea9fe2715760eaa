// Package cbad is DriftLock's scoring core: compression-based anomaly
// detection over per-stream sliding windows. It is a pure function of its
// input and its seed: no Kafka, HTTP, Prometheus, wall clock or global RNG,
// and no result depends on map iteration order.
//
// A Stream keeps the last WindowSize events (the window) and BaselineSize
// earlier events (the baseline). Every HopSize events, once both are full,
// it judges the window against the baseline:
//
//   - Canonical form. A log record becomes severity + body with what always
//     changes masked (numbers, hex ids, UUIDs, IPs, times, quoted values,
//     digits inside host names and paths) + its attributes, keeping the
//     values of low-cardinality attributes. A span becomes name, kind,
//     status, a duration bucket and attribute keys. A metric event becomes
//     its value (mean of points; increase for cumulative sums; mean, count
//     and a percentile for histograms and summaries), symbolised against the
//     pooled values of baseline and window: equal-frequency levels plus tail
//     symbols beyond the 1st/99th percentile, and a change symbol.
//   - Compression. Each side is written as a table of its distinct canonical
//     lines (or value symbols) with a logarithmic class of each one's count.
//     The table shows which message shapes occur and how often without the
//     random interleaving of a busy service, so a new shape, a shift in
//     shares, or a new level changes its compressed size. NCD = (C(BW) −
//     min(C(B), C(W))) / max(C(B), C(W)) with zstd (gzip and lz4 selectable;
//     encoders pooled).
//   - Significance. A permutation test: random splits of the pooled events
//     (in blocks of BlockSize) into a baseline-sized and a window-sized part,
//     seeded by Seed, the stream key and the judgement number.
//     p = (1 + #{permuted NCD ≥ observed}) / (1 + permutations run); the test
//     stops after StopAfter exceedances (Besag–Clifford), when the threshold
//     can no longer be reached, or when the effect cannot matter.
//   - Decision. Anomalous when 1 − p ≥ Threshold and the effect (NCD above
//     the permutations' mean) is at least MinEffect and beyond the stream's
//     own recent effects by three median absolute deviations: a stream whose
//     content always churns is judged against its own churn.
//   - Baseline policy. Events leaving the window join the baseline unless
//     they were part of an anomalous window; after AdaptAfter anomalous
//     judgements in a row they join anyway, so a lasting change is reported
//     for a while and then becomes the new normal.
//   - Glass box. An anomalous judgement explains itself in sentences (new
//     message shapes with an example, severity shares, level and spread of
//     values) and names up to ten evidence events, scored by the conditional
//     compressed size of their canonical line given the baseline (logs) or
//     their distance beyond the baseline's range (metrics).
//
// Event anomalies. Every event also gets a score in [0, 1]: for logs and
// spans the larger of the surprisal of its canonical line under
// long-memory counts (a never-seen line weighted by its conditional
// compressed size given the recent distinct lines) and the rarity of its
// severity (WARN and above) in the stream; for metrics the larger of its
// distance beyond the range of the latest WindowSize+BaselineSize values,
// its departure from the daily cycle and the novelty of its recent context.
// An onset rule kept in the stream's state (see decideEvent) turns these
// scores into event anomalies: after EventWarmup events, an event whose
// score reaches EventThreshold and is clearly beyond every score of the
// previous HopSize events opens an incident; later elevated log lines
// extend it, and its closing record lists them. Anomalous windows join the
// incident they overlap, so one incident is one alert.
package cbad
