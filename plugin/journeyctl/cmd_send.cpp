// journeyctl send [FILE|-] --url http://HOST:PORT [--ingest-key K]: posts events to a
// journeyd in batches over one keep-alive connection (SPEC section 11).
#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

#include "command.hpp"
#include "flags.hpp"
#include "inputs.hpp"
#include "journey/batch.hpp"
#include "journey/time.hpp"
#include "journey/validate.hpp"

namespace {

constexpr const char* kHelp =
    "usage: journeyctl send [FILE|-] --url http://HOST:PORT [--ingest-key KEY] [--batch N]\n"
    "\n"
    "Posts events to journeyd's /v1/events in batches of N (default 500, at most 2000) and at\n"
    "most 5 MiB over one keep-alive connection (--url may also be that endpoint itself).\n"
    "Input (FILE, or standard input when - or absent): one event, a JSON array,\n"
    "{\"sent_at\", \"events\"} (each batch carries that sent_at), or NDJSON. A 503 is retried\n"
    "after Retry-After. Prints one line per problem of a rejected event, in input order\n"
    "(event <index>: <problem>), then the counts. Flags take \"--name value\" or \"--name=value\".\n"
    "--ingest-key defaults to $JOURNEY_INGEST_KEY.\n"
    "Exit status: 0 all accepted, 1 some rejected or journeyd unreachable, 2 bad usage.\n";

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t header_line(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  if (line.size() > 12 && strncasecmp(line.c_str(), "retry-after:", 12) == 0)
    *static_cast<long*>(out) = std::atol(line.c_str() + 12);
  return size * n;
}

struct Post {
  long status = 0;
  std::string body;
  long retry_after = 0;
  std::string error;
};

Post post(CURL* curl, const std::string& url, const std::string& body, curl_slist* headers) {
  Post p;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &p.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_line);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &p.retry_after);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  CURLcode rc = curl_easy_perform(curl);
  if (rc != CURLE_OK) {
    p.error = curl_easy_strerror(rc);
    return p;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &p.status);
  return p;
}

void progress(size_t done, size_t total) {
  const int width = 40;
  int filled = total ? int(width * done / total) : width;
  std::fprintf(stderr, "\r[%s%s] %zu/%zu events", std::string(size_t(filled), '#').c_str(),
               std::string(size_t(width - filled), ' ').c_str(), done, total);
  if (done == total) std::fputc('\n', stderr);
  std::fflush(stderr);
}

// sent_at as the body gave it, to the microsecond: journeyd shifts each timestamp
// by its received_at less this.
std::string format_sent_at(journey::SysTime t) {
  std::string text = journey::format_rfc3339(t);  // ...SS.mmmZ
  const int64_t micros = ((t.time_since_epoch().count() % 1000) + 1000) % 1000;
  char digits[4];
  std::snprintf(digits, sizeof digits, "%03lld", static_cast<long long>(micros));
  text.insert(text.size() - 1, digits);
  return text;
}

// A request body's envelope: a bare array, or {"sent_at", "events"} when the input had one.
struct Envelope {
  std::string open = "[", close = "]";
  explicit Envelope(const std::string& sent_at) {
    if (sent_at.empty()) return;
    open = "{\"sent_at\":\"" + sent_at + "\",\"events\":[";
    close = "]}";
  }
  std::string body(const std::vector<std::string>& events, size_t first, size_t end) const {
    std::string out = open;
    for (size_t i = first; i < end; ++i) {
      if (i > first) out += ',';
      out += events[i];
    }
    return out + close;
  }
};

// [first, end) ranges of `events` for one request each: at most `per_batch` events
// and journeyd's body limit (SPEC section 12), envelope included.
std::vector<std::pair<size_t, size_t>> batch_ranges(const std::vector<std::string>& events, size_t per_batch,
                                                    const Envelope& envelope) {
  std::vector<std::pair<size_t, size_t>> ranges;
  size_t first = 0, bytes = envelope.open.size() + envelope.close.size();
  for (size_t i = 0; i < events.size(); ++i) {
    if (i > first && (i - first >= per_batch || bytes + 1 + events[i].size() > journey::Limits::max_body_bytes)) {
      ranges.emplace_back(first, i);
      first = i;
      bytes = envelope.open.size() + envelope.close.size();
    }
    bytes += (i > first ? 1 : 0) + events[i].size();
  }
  if (first < events.size()) ranges.emplace_back(first, events.size());
  return ranges;
}

int run(const journeyctl::Args& args) {
  journeyctl::Flags flags;
  std::string error;
  if (!journeyctl::parse_flags(args, {"url", "ingest-key", "batch"}, 1, &flags, &error)) {
    std::fprintf(stderr, "journeyctl send: %s\n", error.c_str());
    return 2;
  }
  if (flags.help) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  const std::string file = flags.positional.empty() ? "-" : flags.positional[0];
  const char* env_key = std::getenv("JOURNEY_INGEST_KEY");
  const std::string key = flags.get("ingest-key", env_key ? env_key : "");
  std::string url = flags.get("url", "");
  size_t batch = 500;
  if (flags.values.count("batch")) {
    const std::string v = flags.values["batch"];
    char* end = nullptr;
    long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end || n < 1 || n > 2000) {
      std::fprintf(stderr, "journeyctl send: --batch: expected 1 to 2000, got \"%s\"\n", v.c_str());
      return 2;
    }
    batch = size_t(n);
  }
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    std::fprintf(stderr, "journeyctl send: --url: expected http://HOST:PORT, got \"%s\"\n", url.c_str());
    return 2;
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  // The endpoint itself, as in journeyd's docs and curl examples, names the same journeyd.
  if (constexpr std::string_view kPath = "/v1/events"; url.ends_with(kPath)) url.resize(url.size() - kPath.size());

  std::string body, read_error;
  if (!journeyctl::read_input(file, &body, &read_error)) {
    std::fprintf(stderr, "journeyctl send: cannot read %s: %s\n", file == "-" ? "stdin" : file.c_str(),
                 read_error.c_str());
    return 2;
  }
  journey::ParsedBody parsed;
  if (!journey::parse_body(body, journey::BodyFormat::automatic, &parsed, &error)) {
    std::fprintf(stderr, "journeyctl send: %s: %s\n", file == "-" ? "stdin" : file.c_str(), error.c_str());
    return 1;
  }

  // Each rejected event's lines, printed in input order once every batch is sent.
  std::vector<std::pair<size_t, std::string>> problems;
  size_t accepted = 0, rejected = 0;
  std::vector<size_t> to_send;  // input indices of the events that parsed
  std::vector<std::string> texts;
  for (size_t i = 0; i < parsed.items.size(); ++i) {
    if (parsed.items[i].event) {
      to_send.push_back(i);
      texts.push_back(parsed.items[i].event->dump());
    } else {
      problems.emplace_back(i, parsed.items[i].error);
      ++rejected;
    }
  }
  const Envelope envelope(parsed.sent_at ? format_sent_at(*parsed.sent_at) : "");
  const auto ranges = batch_ranges(texts, batch, envelope);

  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL* curl = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");
  if (!key.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + key).c_str());
  const bool tty = isatty(STDERR_FILENO);
  const std::string endpoint = url + "/v1/events";
  int status = 0;
  for (size_t k = 0; k < ranges.size() && status == 0; ++k) {
    const auto [start, end] = ranges[k];
    const std::string out = envelope.body(texts, start, end);
    Post p;
    for (int attempt = 0;; ++attempt) {
      p = post(curl, endpoint, out, headers);
      if (p.status != 503 || attempt == 5) break;
      std::this_thread::sleep_for(std::chrono::seconds(std::clamp(p.retry_after, 1L, 10L)));
    }
    if (!p.error.empty()) {
      std::fprintf(stderr, "journeyctl send: %s: %s\n", endpoint.c_str(), p.error.c_str());
      status = 1;
      break;
    }
    journey::Json answer = journey::Json::parse(p.body, nullptr, false);
    const std::string message = answer.is_object() ? answer.value("error", p.body) : p.body;
    if (p.status == 202 || (p.status == 400 && answer.is_object() && answer.contains("rejected"))) {
      if (p.status == 202) accepted += answer.value("accepted", size_t(0));
      size_t batch_rejected = 0;
      for (const auto& r : answer.value("rejected", journey::Json::array())) {
        size_t idx = to_send[start + r.value("index", size_t(0))];
        for (const auto& e : r.value("errors", journey::Json::array())) problems.emplace_back(idx, e.get<std::string>());
        ++batch_rejected;
      }
      if (p.status == 400 && batch_rejected == 0) {
        for (size_t j = start; j < end; ++j) problems.emplace_back(to_send[j], message);
        batch_rejected = end - start;
      }
      rejected += batch_rejected;
    } else if (p.status == 413 && end - start == 1) {  // one event larger than a request may be
      problems.emplace_back(to_send[start], message);
      ++rejected;
    } else {
      std::fprintf(stderr, "journeyctl send: %s answered %ld: %s\n", endpoint.c_str(), p.status, message.c_str());
      status = 1;
    }
    if (tty) progress(end, to_send.size());
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  curl_global_cleanup();
  std::stable_sort(problems.begin(), problems.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [index, text] : problems) std::printf("event %zu: %s\n", index, text.c_str());
  std::printf("accepted %zu, rejected %zu\n", accepted, rejected);
  return status != 0 || rejected > 0 ? 1 : 0;
}

const journeyctl::Register reg("send", "post events from a file or stdin to a journeyd", run);

}  // namespace
