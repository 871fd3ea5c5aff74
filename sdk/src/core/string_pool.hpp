// Recycled std::string buffers for the event JSON and ids the pipeline carries
// (internal). The threads done with them (delivery, the memory store) give them
// back and the threads that fill them (track()) take them, so steady tracking
// neither mallocs nor frees them (nor the vectors that carry them): glibc has no
// freed heap top to trim and fault back in, and no thread frees into another's
// malloc arena, whose lock it would wait for. Thread-safe: each thread keeps a
// small cache per size class (up to 128 buffers) and trades runs of 64 with a
// shared stock, bounded by bytes:
// 1 MiB of id buffers (64 bytes) and 16 MiB of JSON buffers (up to 4 KiB each).
// What the stock holds was in use at some peak; it is kept for the process.
#pragma once
#include <cstddef>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

namespace journey::detail {

// An empty string with room for at least `capacity` bytes.
std::string take_string(size_t capacity);

// A string of `size` bytes with room for `capacity`, whose bytes are unspecified (a
// recycled buffer keeps what it held): for a writer that overwrites what it uses,
// without the zero-fill of take_string() and resize().
std::string take_scratch(size_t size, size_t capacity);

// A copy of v, in a recycled buffer when v does not fit std::string's inline
// storage (ids and keys of 16 bytes and more: UUIDs, analytics client ids).
std::string copy_string(std::string_view v);

// Keeps s's buffer for a later take_string() when the pool has room for it and it
// is not oversized; otherwise frees it. s is left empty either way.
void give_string(std::string& s);

// give_string() for each of `strings`, straight to the shared stock under one
// lock: for a thread that hands back many buffers and takes few (delivery). Never
// waits for the lock: while another thread holds it, the buffers wait in this
// thread's cache (up to 65,536) and go with the next call's.
void give_strings(std::span<std::string* const> strings);

// Fills the shared stock of buffers of capacity's class up to `count` (at most
// the stock's bound), so the first events a process tracks take buffers whose
// pages are already mapped instead of faulting them in inside track().
void stock_strings(size_t count, size_t capacity);

// take_scratch() for bytes the caller writes at once (an event's text, its id):
// the buffer was taken at the thread's last call for its size class and its lines
// were prefetched for writing since, so that the writes do not wait for lines
// another core wrote last (recycled buffers come back from the delivery thread).
// `into` gets the buffer (its own, if any, is given back).
void take_text(std::string& into, size_t size, size_t capacity);

// Bytes of buffer capacity the shared stock holds in capacity's class (for tests).
size_t stock_bytes(size_t capacity);

// Empty run vectors the shared stock keeps for the next runs given (for tests).
size_t stock_spare_runs();

// Holds the shared stock's lock for as long as the returned lock lives (for tests).
std::unique_lock<std::mutex> hold_stock();

}  // namespace journey::detail
