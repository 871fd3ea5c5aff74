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
#include "inputs.hpp"
#include "journey/batch.hpp"

namespace {

constexpr const char* kHelp =
    "usage: journeyctl send [FILE|-] --url http://HOST:PORT [--ingest-key KEY] [--batch N]\n"
    "\n"
    "Posts events to journeyd's /v1/events in batches of N (default 500, at most 2000) over\n"
    "one keep-alive connection (--url may also be that endpoint itself). Input (FILE, or standard input when - or absent): one event,\n"
    "a JSON array, {\"sent_at\", \"events\"}, or NDJSON. A 503 is retried after Retry-After.\n"
    "Prints one line per rejected event (event <index>: <problem>), then the counts.\n"
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

int run(const journeyctl::Args& args) {
  std::string file = "-", url, key;
  if (const char* k = std::getenv("JOURNEY_INGEST_KEY")) key = k;
  size_t batch = 500;
  bool have_file = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const char* flag) -> const std::string* {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "journeyctl send: %s: missing value\n", flag);
        return nullptr;
      }
      return &args[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kHelp, stdout);
      return 0;
    } else if (a == "--url") {
      auto v = value("--url");
      if (!v) return 2;
      url = *v;
    } else if (a == "--ingest-key") {
      auto v = value("--ingest-key");
      if (!v) return 2;
      key = *v;
    } else if (a == "--batch") {
      auto v = value("--batch");
      if (!v) return 2;
      char* end = nullptr;
      long n = std::strtol(v->c_str(), &end, 10);
      if (v->empty() || *end || n < 1 || n > 2000) {
        std::fprintf(stderr, "journeyctl send: --batch: expected 1 to 2000, got \"%s\"\n", v->c_str());
        return 2;
      }
      batch = size_t(n);
    } else if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "journeyctl send: unknown option %s (see --help)\n", a.c_str());
      return 2;
    } else if (have_file) {
      std::fprintf(stderr, "journeyctl send: more than one FILE given (%s)\n", a.c_str());
      return 2;
    } else {
      file = a;
      have_file = true;
    }
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
  std::string error;
  if (!journey::parse_body(body, journey::BodyFormat::automatic, &parsed, &error)) {
    std::fprintf(stderr, "journeyctl send: %s: %s\n", file == "-" ? "stdin" : file.c_str(), error.c_str());
    return 1;
  }

  size_t accepted = 0, rejected = 0;
  std::vector<size_t> to_send;  // input indices of the events that parsed
  for (size_t i = 0; i < parsed.items.size(); ++i) {
    if (parsed.items[i].event) {
      to_send.push_back(i);
    } else {
      std::printf("event %zu: %s\n", i, parsed.items[i].error.c_str());
      ++rejected;
    }
  }

  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL* curl = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");
  if (!key.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + key).c_str());
  const bool tty = isatty(STDERR_FILENO);
  const std::string endpoint = url + "/v1/events";
  int status = 0;
  for (size_t start = 0; start < to_send.size() && status == 0; start += batch) {
    size_t end = std::min(to_send.size(), start + batch);
    std::string out = "[";
    for (size_t j = start; j < end; ++j) out += (j > start ? "," : "") + parsed.items[to_send[j]].event->dump();
    out += "]";
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
    if (p.status == 202 || (p.status == 400 && answer.is_object() && answer.contains("rejected"))) {
      if (p.status == 202) accepted += answer.value("accepted", size_t(0));
      size_t batch_rejected = 0;
      for (const auto& r : answer.value("rejected", journey::Json::array())) {
        size_t idx = to_send[start + r.value("index", size_t(0))];
        for (const auto& e : r.value("errors", journey::Json::array()))
          std::printf("event %zu: %s\n", idx, e.get<std::string>().c_str());
        ++batch_rejected;
      }
      if (p.status == 400 && batch_rejected == 0) {
        std::printf("events %zu-%zu: %s\n", to_send[start], to_send[end - 1], answer.value("error", "").c_str());
        batch_rejected = end - start;
      }
      rejected += batch_rejected;
    } else {
      std::string msg = answer.is_object() ? answer.value("error", p.body) : p.body;
      std::fprintf(stderr, "journeyctl send: %s answered %ld: %s\n", endpoint.c_str(), p.status, msg.c_str());
      status = 1;
    }
    if (tty) progress(end, to_send.size());
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  curl_global_cleanup();
  std::printf("accepted %zu, rejected %zu\n", accepted, rejected);
  return status != 0 || rejected > 0 ? 1 : 0;
}

const journeyctl::Register reg("send", "post events from a file or stdin to a journeyd", run);

}  // namespace
