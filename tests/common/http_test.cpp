#include "common/http.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace common::http;

Url url(std::string_view text) {
    const std::optional<Url> u = parse_url(text);
    EXPECT_TRUE(u.has_value()) << text;
    return u.value_or(Url{});
}

std::vector<std::string> paths(const std::vector<Url>& urls) {
    std::vector<std::string> out;
    for (const Url& u : urls) {
        out.push_back(u.path);
    }
    return out;
}

TEST(ParseUrl, ReadsHostPortAndPath) {
    EXPECT_EQ(url("http://127.0.0.1:8080/a/b?x=1"), (Url{"127.0.0.1", 8080, "/a/b?x=1"}));
    EXPECT_EQ(url("http://localhost"), (Url{"localhost", 80, "/"}));
    EXPECT_EQ(url("http://127.0.0.1:81/page#frag"), (Url{"127.0.0.1", 81, "/page"}));
}

TEST(ParseUrl, RejectsWhatIsNotAnHttpUrl) {
    for (const char* bad : {"https://x/", "ftp://x/", "http://", "http://:80/", "http://h:0/",
                            "http://h:65536/", "http://h:12ab/", "mailto:a@b", "/relative"}) {
        EXPECT_FALSE(parse_url(bad).has_value()) << bad;
    }
}

TEST(GetRequest, IsHttp10WithHostAndClose) {
    EXPECT_EQ(get_request(Url{"127.0.0.1", 8080, "/p?q"}),
              "GET /p?q HTTP/1.0\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n");
}

TEST(ParseResponse, ReadsStatusHeadersAndBody) {
    const Response r = parse_response("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nX-Thing:  v \r\n\r\n<p>hi</p>");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.reason, "OK");
    EXPECT_EQ(r.header("content-type"), "text/html");
    EXPECT_EQ(r.header("x-thing"), "v");
    EXPECT_EQ(r.body, "<p>hi</p>");
}

TEST(ParseResponse, AcceptsBareLineFeeds) {
    const Response r = parse_response("HTTP/1.1 404 Not Found\nContent-Length: 2\n\nno");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.body, "no");
}

TEST(ParseResponse, CutsTheBodyToContentLength) {
    EXPECT_EQ(parse_response("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabcdef").body, "abc");
}

TEST(ParseResponse, ABodyShorterThanContentLengthIsATruncationError) {
    try {
        parse_response("HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        FAIL();
    } catch (const ProtocolError& e) {
        EXPECT_NE(std::string(e.what()).find("truncated body: 3 of 10"), std::string::npos) << e.what();
    }
}

TEST(ParseResponse, MalformedInputIsAProtocolError) {
    for (const char* bad : {"", "HTTP/1.0 200 OK\r\nno end of headers",
                            "HTTX/1.0 ??? nonsense\r\n\r\n", "HTTP/1.0 2x0 OK\r\n\r\n",
                            "HTTP/1.0 200 OK\r\nno colon here\r\n\r\n",
                            "HTTP/1.0 200 OK\r\nContent-Length: lots\r\n\r\n", "garbage\r\n\r\n"}) {
        EXPECT_THROW(parse_response(bad), ProtocolError) << bad;
    }
}

TEST(ParseResponse, AFoldedHeaderLineContinuesThePreviousValue) {
    const Response r = parse_response(
        "HTTP/1.0 200 OK\r\nX-Long: a\r\n b\r\n\tc  \r\nX-Next: d\r\nContent-Length: 2\r\n\r\nok");
    EXPECT_EQ(r.header("x-long"), "a b c");
    EXPECT_EQ(r.header("x-next"), "d");
    EXPECT_EQ(r.body, "ok");
}

TEST(ParseResponse, AFoldedLineIsNeverAHeaderOfItsOwn) {
    // Trimmed first, the continuation would read as "Content-Length: 0" and
    // cut the body to nothing.
    const Response r = parse_response("HTTP/1.0 200 OK\r\nX-Long: a\r\n\tContent-Length: 0\r\n\r\nbody");
    EXPECT_EQ(r.header("x-long"), "a Content-Length: 0");
    EXPECT_EQ(r.header("content-length"), std::nullopt);
    EXPECT_EQ(r.body, "body");
    EXPECT_FALSE(response_complete("HTTP/1.0 200 OK\r\nX-Long: a\r\n\tContent-Length: 0\r\n\r\nbody"));
}

TEST(ParseResponse, AContinuationWithNoHeaderBeforeItIsAProtocolError) {
    EXPECT_THROW(parse_response("HTTP/1.0 200 OK\r\n Content-Length: 0\r\n\r\n"), ProtocolError);
    EXPECT_THROW(parse_response("HTTP/1.0 200 OK\n\tX: y\n\n"), ProtocolError);
}

TEST(ParseResponse, AResponseLargerThanTheLimitIsAProtocolError) {
    const std::string head = "HTTP/1.0 200 OK\r\n\r\n";
    const std::string at_limit = head + std::string(kMaxResponseBytes - head.size(), 'x');
    EXPECT_EQ(parse_response(at_limit).body.size(), kMaxResponseBytes - head.size());
    EXPECT_THROW(parse_response(at_limit + "x"), ProtocolError);
    // A Content-Length beyond the limit fails as soon as the headers are in.
    const std::string declared = "HTTP/1.0 200 OK\r\nContent-Length: " + std::to_string(kMaxResponseBytes) + "\r\n\r\nab";
    EXPECT_THROW(parse_response(declared), ProtocolError);
    EXPECT_THROW(parse_response("HTTP/1.0 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"), ProtocolError);
}

TEST(ResponseComplete, FollowsContentLength) {
    EXPECT_FALSE(response_complete("HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nab"));
    EXPECT_TRUE(response_complete("HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nabcd"));
    EXPECT_TRUE(response_complete("HTTP/1.0 200 OK\r\ncontent-length:4\r\n\r\nabcdef"));
    EXPECT_FALSE(response_complete("HTTP/1.0 200 OK\r\n\r\nbody until EOF"));
    EXPECT_FALSE(response_complete("HTTP/1.0 200 OK\r\nContent-Le"));
    EXPECT_FALSE(response_complete(""));
}

TEST(ResponseComplete, IsTrueOnceMoreBytesCannotHelp) {
    // Each of these is an error whatever follows: a reader stops and lets
    // parse_response say why, instead of waiting for a close that may never come.
    const std::vector<std::string> hopeless{
        "HTTX/1.0 ??? nonsense\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length: lots\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length: " + std::to_string(kMaxResponseBytes) + "\r\n\r\n",
        "HTTP/1.0 200 OK\r\n" + std::string(64 * 1024 + 4, 'h'),
        "HTTP/1.0 200 OK\r\n\r\n" + std::string(kMaxResponseBytes, 'x'),
    };
    for (const std::string& raw : hopeless) {
        EXPECT_TRUE(response_complete(raw)) << raw.substr(0, 60);
        EXPECT_THROW(parse_response(raw), ProtocolError) << raw.substr(0, 60);
    }
}

TEST(ExtractLinks, ResolvesEveryLinkFormAgainstTheBase) {
    const Url base{"127.0.0.1", 8080, "/dir/page"};
    const std::string html = R"html(
        <a href="/abs">a</a> <a href="rel">b</a> <a href="../up">c</a> <a href="./same">d</a>
        <a HREF = 'single'>e</a> <a href="http://127.0.0.1:8080/full">f</a>
        <a href="//127.0.0.1:8080/scheme-relative">g</a> <a href="?q=1&amp;r=2">h</a>)html";
    EXPECT_EQ(paths(extract_links(base, html)),
              (std::vector<std::string>{"/abs", "/dir/rel", "/up", "/dir/same", "/dir/single", "/full",
                                        "/scheme-relative", "/dir/page?q=1&r=2"}));
}

TEST(ExtractLinks, DropsFragmentsOtherSitesAndOtherSchemes) {
    const Url base{"127.0.0.1", 8080, "/"};
    const std::string html = R"html(<a href="#top">self</a> <a href="/p#x">p</a> <a href="mailto:a@b">m</a>
        <a href="javascript:void(0)">j</a> <a href="https://127.0.0.1:8080/s">s</a>
        <a href="http://127.0.0.1:9999/other-port">o</a> <a href="http://example.invalid/">e</a>)html";
    EXPECT_EQ(paths(extract_links(base, html)), std::vector<std::string>{"/p"});
}

TEST(ExtractLinks, KeepsFirstAppearanceOrderWithoutDuplicates) {
    const Url base{"127.0.0.1", 80, "/"};
    EXPECT_EQ(paths(extract_links(base, R"html(<a href="/b"></a><a href="/a"></a><a href="/b#x"></a><a href="b"></a>)html")),
              (std::vector<std::string>{"/b", "/a"}));
}

TEST(ExtractLinks, ReadsAPythonHttpServerListing) {
    const Url base{"127.0.0.1", 8000, "/"};
    const std::string html = R"html(<!DOCTYPE HTML>
<html lang="en"><head><meta charset="utf-8"><title>Directory listing for /</title></head>
<body><h1>Directory listing for /</h1><hr><ul>
<li><a href="docs/">docs/</a></li>
<li><a href="index%20old.html">index old.html</a></li>
</ul><hr></body></html>)html";
    EXPECT_EQ(paths(extract_links(base, html)), (std::vector<std::string>{"/docs/", "/index%20old.html"}));
}

TEST(ExtractLinks, SurvivesUnterminatedMarkup) {
    const Url base{"127.0.0.1", 80, "/"};
    EXPECT_EQ(paths(extract_links(base, R"html(<a href="/ok">x</a><a href="/never-closed)html")),
              std::vector<std::string>{"/ok"});
    EXPECT_TRUE(extract_links(base, "href").empty());
    EXPECT_TRUE(extract_links(base, "href=").empty());
}

TEST(ExtractLinks, DotDotAboveTheRootStaysAtTheRoot) {
    const Url base{"127.0.0.1", 80, "/dir/page"};
    EXPECT_EQ(paths(extract_links(base, R"html(<a href="/../x"></a><a href="../../../y/./z"></a>)html")),
              (std::vector<std::string>{"/x", "/y/z"}));
}

TEST(ExtractLinks, ABaseWithAQueryResolvesAgainstItsPathOnly) {
    const Url base{"127.0.0.1", 80, "/dir/page?a=/b/c"};
    EXPECT_EQ(paths(extract_links(base, R"html(<a href="other"></a><a href="?q#frag"></a><a href="../up?x"></a>)html")),
              (std::vector<std::string>{"/dir/other", "/dir/page?q", "/up?x"}));
}

TEST(ExtractLinks, AttributeNamesAndHostsAreCaseInsensitive) {
    const Url base{"LocalHost", 8080, "/"};
    const std::vector<Url> links = extract_links(
        base, R"html(<A HREF="/a">x</A> <a Href="http://LOCALHOST:8080/b">y</a> <a href="http://localhost:8080/a">z</a>)html");
    EXPECT_EQ(links, (std::vector<Url>{{"localhost", 8080, "/a"}, {"localhost", 8080, "/b"}}));
}

TEST(ExtractLinks, APageOfManyLinksKeepsEachOnceInOrder) {
    const Url base{"127.0.0.1", 80, "/"};
    std::string html;
    for (int round = 0; round < 2; ++round) {
        for (int i = 0; i < 20'000; ++i) {
            html += "<a href=\"/p/" + std::to_string(i) + "\">x</a>\n";
        }
    }
    const std::vector<Url> links = extract_links(base, html);
    ASSERT_EQ(links.size(), 20'000u);
    EXPECT_EQ(links.front().path, "/p/0");
    EXPECT_EQ(links.back().path, "/p/19999");
}

}  // namespace
