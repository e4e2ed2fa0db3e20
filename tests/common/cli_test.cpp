#include "common/cli.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using common::Args;
using common::UsageError;

Args parse(std::vector<std::string> args, std::size_t positionals = 0) {
    return Args::parse(args, {{"port"}, {"style"}, {"sequential", false}}, positionals);
}

TEST(Args, ReadsSpaceAndEqualsForms) {
    const Args a = parse({"--port", "8080", "--style=generators", "--sequential"});
    EXPECT_EQ(a.int_or("port", 0, 0, 65535), 8080);
    EXPECT_EQ(a.string_or("style", "callbacks"), "generators");
    EXPECT_TRUE(a.has("sequential"));
    EXPECT_FALSE(parse({}).has("sequential"));
}

TEST(Args, MissingFlagGivesFallback) {
    EXPECT_EQ(parse({}).int_or("port", 7, 0, 65535), 7);
}

TEST(Args, UnknownFlagIsAUsageError) {
    EXPECT_THROW(parse({"--bogus", "1"}), UsageError);
    EXPECT_THROW(parse({"-x"}), UsageError);
}

TEST(Args, FlagWithoutValueIsAUsageError) {
    EXPECT_THROW(parse({"--port"}), UsageError);
    EXPECT_THROW(parse({"--sequential=yes"}), UsageError);
}

TEST(Args, NonNumberAndOutOfRangeAreUsageErrors) {
    EXPECT_THROW((void)parse({"--port", "80x"}).int_or("port", 0, 0, 65535), UsageError);
    EXPECT_THROW((void)parse({"--port", "70000"}).int_or("port", 0, 0, 65535), UsageError);
    EXPECT_THROW((void)parse({"--port", "-1"}).int_or("port", 0, 0, 65535), UsageError);
}

TEST(Args, ChoiceMustBeListed) {
    EXPECT_EQ(parse({"--style", "generators"}).choice_or("style", "callbacks",
                                                        {"callbacks", "generators"}),
              "generators");
    EXPECT_THROW((void)parse({"--style", "threads"}).choice_or("style", "callbacks",
                                                                {"callbacks", "generators"}),
                 UsageError);
}

TEST(Args, PositionalsAreCounted) {
    EXPECT_EQ(parse({"http://x/"}, 1).positionals().at(0), "http://x/");
    EXPECT_THROW(parse({"a", "b"}, 1), UsageError);
}

TEST(RunMain, MapsErrorsToExitCodes) {
    const char* argv_help[] = {"prog", "--help"};
    const char* argv_plain[] = {"prog", "x"};
    const auto call = [](int argc, const char** argv, auto body) {
        return common::run_main(argc, const_cast<char**>(argv), "prog", "usage\n", body);
    };
    testing::internal::CaptureStdout();
    EXPECT_EQ(call(2, argv_help, [](std::vector<std::string>) { return 5; }), 0);
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "usage\n");
    testing::internal::CaptureStderr();
    EXPECT_EQ(call(2, argv_plain,
                   [](std::vector<std::string>) -> int { throw UsageError("bad flag"); }),
              2);
    EXPECT_NE(testing::internal::GetCapturedStderr().find("prog: bad flag"), std::string::npos);
    testing::internal::CaptureStderr();
    EXPECT_EQ(call(2, argv_plain,
                   [](std::vector<std::string>) -> int { throw std::runtime_error("boom"); }),
              1);
    EXPECT_NE(testing::internal::GetCapturedStderr().find("prog: error: boom"),
              std::string::npos);
}

}  // namespace
