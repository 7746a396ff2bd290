// Every limit of Umupaka, named, in one place, with its reason. When a limit is
// hit the caller gets Errc::limit_exceeded (or a 4xx at the API); nothing is dropped silently.
#pragma once

#include <cstddef>
#include <cstdint>

namespace umupaka::limits {

// --- Records -------------------------------------------------------------------------------
// A record is one fact about one person or document; the largest (a crossing with every check
// reason) is under 2 KiB. 16 KiB leaves room for future fields yet bounds memory per record.
inline constexpr size_t record_encoded_bytes_max = 16 * 1024;
// Free-text fields (reasons, notes): a sentence or two, as an officer types it.
inline constexpr size_t text_bytes_max = 512;
// Names: ICAO 9303 holds 39 characters in the TD3 name field; full names in the visual zone are
// longer but 128 bytes of UTF-8 covers every real name.
inline constexpr size_t name_bytes_max = 128;
// Identifiers (site ids, permit ids, alert ids, officer ids): short slugs.
inline constexpr size_t id_bytes_max = 64;
// Document numbers: TD1 allows up to 22 characters with the long-number rule.
inline constexpr size_t document_number_bytes_max = 24;
// Reasons attached to one crossing (one per check finding plus the officer's note).
inline constexpr size_t reasons_per_record_max = 16;
// msgpack nesting of a record body: envelope -> body -> sub-struct -> list. 8 is ample.
inline constexpr size_t msgpack_depth_max = 8;
inline constexpr size_t msgpack_array_items_max = 64;
inline constexpr size_t msgpack_map_pairs_max = 0;  // records use arrays only
inline constexpr size_t msgpack_str_bytes_max = record_encoded_bytes_max;
inline constexpr size_t msgpack_bin_bytes_max = record_encoded_bytes_max;

// Sites named in a genesis record: a SiteEntry encodes to ~170 bytes, so 64 fit in one record
// with room to spare; more sites join later through SiteCertified records.
inline constexpr size_t genesis_sites_max = 64;

// --- Gossip and transport --------------------------------------------------------------------
// One ZeroMQ frame between nodes: a batch of up to 2 MiB of records plus framing. Checked by
// ZMQ_MAXMSGSIZE and again before msgpack sees the bytes.
inline constexpr size_t gossip_frame_bytes_max = 4u << 20;
// Items in one array of a gossip message (records of a batch, frontier entries).
inline constexpr size_t gossip_array_items_max = 4096;
// Elements of all arrays and maps of one gossip frame together. msgpack-c spends 24 bytes on each
// before the decoder looks, so this bounds a frame's decoded tree to 3 MiB, where 4 MiB of nested
// arrays of nils (one byte each) allocated ~200 MiB (120 MiB resident, measured). Honest frames
// fill one array of a message: 4,096 records (3 elements each), frontier entries (4), Raft entries
// (5), 1,024 ledger rows.
inline constexpr size_t gossip_frame_elements_max = 1u << 17;
// The data of a Raft entry or snapshot (a string inside a gossip frame, and in the stored log): a
// ledger entry or snapshot names each origin's seq and hash (~100 bytes each), so a network of
// some thousands of sites fits; record strings keep their own 16 KiB limit (checked on decode).
inline constexpr size_t order_data_bytes_max = 1u << 20;
// Elements of all arrays of one Raft entry's or snapshot's data together, counted before msgpack-c
// builds them (as for a gossip frame, whose pass counts that data as one string). The largest
// honest data, a snapshot naming 4,096 origins and 4,096 raised forks, declares 49,159.
inline constexpr size_t order_data_elements_max = 1u << 17;
// Ledger rows in one segment of a snapshot install (~100 bytes each): a node far behind fetches
// its ledger a segment at a time, each checked by a consistency proof before it is written.
inline constexpr size_t ledger_segment_rows_max = 1024;
// Messages queued for one peer in ZeroMQ before sends fail visibly (EAGAIN, counted).
inline constexpr int peer_send_hwm_messages = 1000;
// Messages received from one peer and not yet read by the network thread. Past it ZeroMQ stops
// reading that peer's connection (nothing is dropped: the backlog moves to the sender, whose
// sends then fail visibly): at most 256 frames of up to gossip_frame_bytes_max (1 GiB) a
// misbehaving peer can make a node hold, where 4,000 allowed 16 GiB. The thread reads every
// frame at once in normal running, so a few dozen is already a long stall.
inline constexpr int peer_receive_hwm_messages = 256;

// --- API -----------------------------------------------------------------------------------
// An HTTP request body: one record's JSON plus MRZ lines; 64 KiB is 30x the largest real one.
inline constexpr size_t api_body_bytes_max = 64 * 1024;
// A request's path, query left out, as sent (escapes not yet decoded): ids in it are at most 64
// bytes (192 escaped). The router matches paths with std::regex, which recurses once per byte:
// a path of ~48 KB overflowed an API thread's stack and killed the node (measured), so longer
// paths are refused before any route sees them.
inline constexpr size_t api_path_bytes_max = 1024;
// Requests waiting for the writer (group commit). At 2,000 records/s this is 2 s of backlog;
// past it the API answers 503 instead of queueing without bound.
inline constexpr size_t write_queue_depth_max = 4096;
// Records sealed and synced in one LMDB transaction: bounds latency of the first in the batch.
inline constexpr size_t group_commit_records_max = 512;
// Group-commit pacing (Writer, [storage] group_commit_pace): the largest factor, and the longest
// a batch waits for it.
inline constexpr uint32_t group_commit_pace_max = 10;
inline constexpr int64_t group_commit_pace_wait_max_ms = 20;
// Items returned by one listing call (traveller history, feeds).
inline constexpr size_t api_list_items_max = 1000;
// Records attached to one traveller that a query reads back (oldest beyond this are counted, not
// listed): a frequent border resident crosses twice a day, ~1,500 records in two years.
inline constexpr size_t traveller_records_max = 2000;
// Index entries one traveller query scans to find those newest records (an entry is a record's
// reference: 100,000 is ~5 MB and a few tens of ms; past it the key order decides).
inline constexpr size_t traveller_index_scan_max = 100'000;
// Idempotency-Key on a write (docs/api.md, "Retries"): its length, how long this node keeps what
// one made (a desk retries within minutes; a day covers a link down over a shift), and the expired
// keys one write forgets (more than one write makes keys, so the table shrinks back). Stored
// under the officer's id (at most id_bytes_max) and, in the age index, 8 bytes more: well within
// LMDB's 511-byte keys.
inline constexpr size_t idempotency_key_bytes_max = 128;
inline constexpr int64_t idempotency_key_retention_ms = 24 * 3600 * 1000;
inline constexpr size_t idempotency_keys_expired_per_write = 8;
// Bearer tokens per node: a post has tens of officers, HQ a few hundred users.
inline constexpr size_t tokens_max = 10000;

// --- Storage -------------------------------------------------------------------------------
// Initial LMDB map; grown on MDB_MAP_FULL by doubling up to map_bytes_max.
inline constexpr size_t map_bytes_initial = 256ull * 1024 * 1024;
// 1 TiB of address space: far beyond years of national traffic (~100k records/day * 1 KiB).
inline constexpr size_t map_bytes_max = 1024ull * 1024 * 1024 * 1024;
inline constexpr unsigned lmdb_tables_max = 32;
inline constexpr unsigned lmdb_readers_max = 256;

// --- Checks --------------------------------------------------------------------------------
// Alerts sharing one birth date examined by fuzzy name matching: bounds a crossing's check cost.
inline constexpr size_t alert_candidates_per_birth_date_max = 256;
// Permits held by one traveller examined for validity.
inline constexpr size_t permits_per_holder_max = 256;
// Status-change records a permit's view keeps (the most recent; GET /v1/travellers lists every
// one as `permit_changes`): a permit extended without end would otherwise grow its view, read at
// every check of its holder, without bound.
inline constexpr size_t permit_status_records_kept = 32;

static_assert(group_commit_records_max <= write_queue_depth_max);
static_assert(ledger_segment_rows_max <= gossip_array_items_max);
static_assert(record_encoded_bytes_max <= order_data_bytes_max);
static_assert(order_data_bytes_max < gossip_frame_bytes_max);
static_assert(genesis_sites_max <= msgpack_array_items_max);
static_assert(genesis_sites_max * 200 < record_encoded_bytes_max);  // ~170 bytes per entry
static_assert(text_bytes_max * reasons_per_record_max < record_encoded_bytes_max);
static_assert(record_encoded_bytes_max < api_body_bytes_max);

}  // namespace umupaka::limits
