// http.hpp: the HTTP/1.0 client side the crawlers need, and nothing more.
//
// Parsing a response and finding links in a page is not what the crawler
// chapters teach (they teach how to wait for the bytes), so it lives here.
// Malformed input is a ProtocolError for that page: never a crash, never a
// hang. The crawler catches it and counts the page as an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace common::http {

struct ProtocolError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Url {
    std::string host;  // as written: "127.0.0.1" or "localhost"
    std::uint16_t port = 80;
    std::string path;  // starts with '/', may carry a query; never a fragment

    friend bool operator==(const Url&, const Url&) = default;
};

// "http://HOST[:PORT][/PATH][?QUERY][#FRAGMENT]" -> Url (fragment dropped).
// nullopt for anything else: other schemes, a bad port, an empty host.
std::optional<Url> parse_url(std::string_view text);
std::string to_string(const Url& url);  // "http://host:port/path"

// "GET /path HTTP/1.0\r\nHost: host:port\r\nConnection: close\r\n\r\n"
std::string get_request(const Url& url);

struct Response {
    int status = 0;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    std::string body;

    [[nodiscard]] std::optional<std::string_view> header(std::string_view lower_name) const;
};

// The most bytes a response may take, header section and body together. A
// server that sends more (a huge file, or bytes without end) makes the page a
// ProtocolError instead of filling the crawler's memory.
inline constexpr std::size_t kMaxResponseBytes = 8 * 1024 * 1024;

// Parses a whole response: what the server sent, up to EOF or up to the point
// where response_complete() said to stop. Throws ProtocolError for a malformed
// status line or header, a body shorter than its Content-Length (the
// connection closed mid-body), or a response larger than kMaxResponseBytes.
// A body longer than Content-Length is cut to it. A header line that starts
// with a space or a tab continues the previous header's value (obsolete line
// folding, RFC 9112 5.2): the two parts are joined by one space.
Response parse_response(std::string_view raw);

// True once reading more cannot change what parse_response(raw) makes of it,
// so a reader should stop there instead of waiting for EOF: the body is
// complete by its Content-Length, or the response is already malformed or
// larger than kMaxResponseBytes (parse_response then says why). A server may
// send a complete response and keep the connection open; only this ends such
// a read. Without Content-Length only EOF ends the body.
bool response_complete(std::string_view raw);

// The links in `html` (href="..." or href='...'), resolved against `base`,
// fragments dropped, kept only when they point to base's host and port, in
// order of first appearance, without duplicates.
std::vector<Url> extract_links(const Url& base, std::string_view html);

// The default bound on fetches at once when a crawl is pointed at a real
// server. The embedded test site holds hundreds of connections, so crawls of
// it default to no bound; `python3 -m http.server` listens with a backlog of 5,
// and an unbounded crawl of a large tree there saw hundreds of connections
// reset (measured in chapter 03's README). 20 kept that server at 0 errors.
inline constexpr std::int64_t kUrlCrawlConcurrency = 20;

}  // namespace common::http
