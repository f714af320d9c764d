// The benchmark gate (tools/support/bench_gate.hpp, check_bench_regression,
// export_bench_baseline) on doctored Google Benchmark and baseline JSON: what passes, what fails
// with exit 1 (regression, missing case, invalid baseline, bad input) and what is an argument
// error (exit 2).
#include "support/bench_gate.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace accelerator::tools {
namespace {

namespace fs = std::filesystem;

// A Google Benchmark document with the given cases (ns per iteration, CPU time).
nlohmann::json run_doc(const std::map<std::string, double>& cases, const std::string& cpu = "Test CPU") {
  nlohmann::json doc;
  doc["context"] = {{"host_name", "h"},
                    {"num_cpus", 2},
                    {"accelerator_cpu_model", cpu},
                    {"accelerator_compiler", "g++ 12"},
                    {"accelerator_build_type", "Release"}};
  doc["benchmarks"] = nlohmann::json::array();
  for (const auto& [name, ns] : cases) {
    doc["benchmarks"].push_back({{"name", name},
                                 {"run_type", "iteration"},
                                 {"iterations", 1000},
                                 {"real_time", ns * 2},
                                 {"cpu_time", ns},
                                 {"time_unit", "ns"}});
  }
  return doc;
}

const std::map<std::string, double> kBase{
    {"single_key/hit_manual", 100.0}, {"single_key/hit_macro", 104.0}, {"batch/miss_manual/32", 30000.0}};

class GateFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bench_gate_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write_text(const std::string& name, const std::string& text) {
    const auto path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  std::string write(const std::string& name, const nlohmann::json& doc) { return write_text(name, doc.dump(2)); }

  // Runs a command line, returns its exit status; its output goes to output_.
  int run(const std::string& command) {
    const auto out = (dir_ / "out.txt").string();
    const int status = std::system((command + " >" + out + " 2>&1").c_str());
    std::ifstream in(out);
    output_.assign(std::istreambuf_iterator<char>(in), {});
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string baseline_from(const std::map<std::string, double>& cases) {
    const auto run1 = write("base_run.json", run_doc(cases));
    const auto base = (dir_ / "baseline.json").string();
    EXPECT_EQ(run(std::string(EXPORT_BENCH_BASELINE) + " --output " + base + " " + run1), 0) << output_;
    return base;
  }

  int check(const std::string& baseline, const std::map<std::string, double>& current, const std::string& extra = "") {
    const auto now = write("current.json", run_doc(current));
    return run(std::string(CHECK_BENCH_REGRESSION) + " --baseline " + baseline + " " + extra + " " + now);
  }

  fs::path dir_;
  std::string output_;
};

TEST(BenchGate, CaseIdDropsOptionSuffixes) {
  EXPECT_EQ(case_id("remote/batch/hit_manual/32/real_time"), "remote/batch/hit_manual/32");
  EXPECT_EQ(case_id("single_key/hit_manual/min_time:0.500/real_time"), "single_key/hit_manual");
  EXPECT_EQ(case_id("batch/hit_manual/32"), "batch/hit_manual/32");
  EXPECT_EQ(case_id("l1/read_zipf/threads:2"), "l1/read_zipf/threads:2");
}

TEST(BenchGate, SamplesUseWallTimeOnlyForRealTimeCases) {
  nlohmann::json doc = run_doc({{"a", 10.0}, {"b/real_time", 10.0}});
  doc["benchmarks"][0]["time_unit"] = "us";
  Samples samples;
  ASSERT_TRUE(add_run(doc, samples));
  EXPECT_DOUBLE_EQ(samples["a"][0], 10'000.0);  // cpu_time, in us
  EXPECT_DOUBLE_EQ(samples["b"][0], 20.0);      // real_time
}

TEST(BenchGate, AggregatesAreIgnoredAndErrorsRejected) {
  nlohmann::json doc = run_doc({{"a", 10.0}});
  doc["benchmarks"].push_back({{"name", "a_mean"}, {"run_type", "aggregate"}, {"cpu_time", 1.0}});
  Samples samples;
  ASSERT_TRUE(add_run(doc, samples));
  EXPECT_EQ(samples.size(), 1u);
  doc["benchmarks"][0]["error_occurred"] = true;
  EXPECT_FALSE(add_run(doc, samples));
  EXPECT_FALSE(add_run(nlohmann::json::object(), samples));
}

TEST(BenchGate, SummaryIsMedianWithSpread) {
  const CaseStats s = summarize({110, 100, 90, 300, 105});
  EXPECT_DOUBLE_EQ(s.median_ns, 105);
  EXPECT_DOUBLE_EQ(s.min_ns, 90);
  EXPECT_DOUBLE_EQ(s.max_ns, 300);
  EXPECT_DOUBLE_EQ(s.mad_ns, 5);
  EXPECT_NEAR(s.spread_pct, 200.0, 1e-9);
  EXPECT_EQ(s.runs, 5u);
  EXPECT_DOUBLE_EQ(summarize({1, 3}).median_ns, 2);
}

TEST(BenchGate, CompareThresholdIsStrict) {
  Baseline base;
  base.cases["a"].median_ns = 100;
  base.cases["b"].median_ns = 100;
  Cases now;
  now["a"] = summarize({115});  // exactly +15 %: allowed
  now["b"] = summarize({115.5});
  now["c"] = summarize({1});
  const Comparison c = compare(base, now, 0.15);
  ASSERT_EQ(c.rows.size(), 3u);
  EXPECT_EQ(c.rows[0].verdict, Verdict::Ok);
  EXPECT_EQ(c.rows[1].verdict, Verdict::Regression);
  EXPECT_EQ(c.rows[2].verdict, Verdict::New);
  EXPECT_EQ(c.regressions, 1);
  EXPECT_TRUE(c.failed());
}

TEST(BenchGate, MacroOverheadPairsManualAndMacro) {
  Cases cases;
  cases["single_key/hit_manual"] = summarize({100});
  cases["single_key/hit_macro"] = summarize({103});
  cases["batch/miss_manual/32"] = summarize({1000});
  const auto pairs = macro_overhead(cases);
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0].first, "single_key/hit");
  EXPECT_NEAR(pairs[0].second, 0.03, 1e-12);
}

// The hand-written get_or_load case pairs with the same macro case, under its own name.
TEST(BenchGate, MacroOverheadAlsoPairsTheHandWrittenGetOrLoad) {
  Cases cases;
  cases["batch/hit_manual/32"] = summarize({200});
  cases["batch/hit_manual_load/32"] = summarize({100});
  cases["batch/hit_macro/32"] = summarize({102});
  auto pairs = macro_overhead(cases);
  std::sort(pairs.begin(), pairs.end());
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].first, "batch/hit/32");
  EXPECT_NEAR(pairs[0].second, -0.49, 1e-12);
  EXPECT_EQ(pairs[1].first, "batch/hit/32 vs get_or_load");
  EXPECT_NEAR(pairs[1].second, 0.02, 1e-12);
}

TEST_F(GateFiles, ExportWritesMediansAndFingerprint) {
  const auto r1 = write("r1.json", run_doc({{"a", 100}, {"b/real_time", 10}}));
  const auto r2 = write("r2.json", run_doc({{"a", 300}, {"b/real_time", 30}}));
  const auto r3 = write("r3.json", run_doc({{"a", 200}, {"b/real_time", 20}}));
  const auto out = (dir_ / "sub" / "baseline.json").string();
  ASSERT_EQ(run(std::string(EXPORT_BENCH_BASELINE) + " --output " + out + " " + r1 + " " + r2 + " " + r3), 0)
      << output_;
  auto doc = read_json(out);
  ASSERT_TRUE(doc);
  EXPECT_EQ((*doc)["version"], 2);
  EXPECT_EQ((*doc)["machine"]["cpu_model"], "Test CPU");
  EXPECT_EQ((*doc)["machine"]["cores"], 2);
  EXPECT_EQ((*doc)["machine"]["build_type"], "Release");
  EXPECT_DOUBLE_EQ((*doc)["benchmarks"]["a"]["median_ns"].get<double>(), 200);
  EXPECT_DOUBLE_EQ((*doc)["benchmarks"]["b"]["median_ns"].get<double>(), 40);  // real_time = 2 x cpu
  EXPECT_DOUBLE_EQ((*doc)["benchmarks"]["a"]["spread_pct"].get<double>(), 100);
  EXPECT_EQ((*doc)["benchmarks"]["a"]["runs"], 3);
}

TEST_F(GateFiles, ExportRejectsMixedMachinesBadInputAndBadArguments) {
  const auto r1 = write("r1.json", run_doc({{"a", 100}}));
  const auto other = write("r2.json", run_doc({{"a", 100}}, "Other CPU"));
  const auto partial = write("r3.json", run_doc({{"b", 100}}));
  const auto out = (dir_ / "b.json").string();
  const std::string tool = EXPORT_BENCH_BASELINE;
  EXPECT_EQ(run(tool + " --output " + out + " " + r1 + " " + other), 1) << output_;
  EXPECT_EQ(run(tool + " --output " + out + " " + r1 + " " + partial), 1) << output_;  // a case not in every run
  EXPECT_EQ(run(tool + " --output " + out + " " + write_text("bad.json", "{not json")), 1) << output_;
  EXPECT_EQ(run(tool + " --output " + out + " " + (dir_ / "absent.json").string()), 1) << output_;
  EXPECT_EQ(run(tool + " --output " + out), 2) << output_;
  EXPECT_EQ(run(tool + " --frobnicate " + r1), 2) << output_;
  EXPECT_EQ(run(tool + " --output"), 2) << output_;
  EXPECT_EQ(run(tool + " --help"), 0) << output_;
  EXPECT_NE(output_.find("usage:"), std::string::npos);
}

TEST_F(GateFiles, CheckPassesWithinThresholdAndPrintsATable) {
  const auto base = baseline_from(kBase);
  EXPECT_EQ(check(base, {{"single_key/hit_manual", 114.9},
                         {"single_key/hit_macro", 90.0},
                         {"batch/miss_manual/32", 30000.0},
                         {"brand/new", 5.0}}),
            0)
      << output_;
  EXPECT_NE(output_.find("[PASS]"), std::string::npos) << output_;
  EXPECT_NE(output_.find("single_key/hit_manual"), std::string::npos) << output_;
  EXPECT_NE(output_.find("+14.9%"), std::string::npos) << output_;
  EXPECT_NE(output_.find("new"), std::string::npos) << output_;
  EXPECT_NE(output_.find("decorator overhead single_key/hit"), std::string::npos) << output_;
}

TEST_F(GateFiles, CheckFailsOnARegression) {
  const auto base = baseline_from(kBase);
  EXPECT_EQ(
      check(base,
            {{"single_key/hit_manual", 100.0}, {"single_key/hit_macro", 104.0}, {"batch/miss_manual/32", 36000.0}}),
      1)
      << output_;
  EXPECT_NE(output_.find("REGRESSION"), std::string::npos) << output_;
  EXPECT_NE(output_.find("[FAIL] 1 regression"), std::string::npos) << output_;
  // The same numbers pass a looser gate.
  EXPECT_EQ(
      check(base,
            {{"single_key/hit_manual", 100.0}, {"single_key/hit_macro", 104.0}, {"batch/miss_manual/32", 36000.0}},
            "--threshold 0.25"),
      0)
      << output_;
}

TEST_F(GateFiles, CheckFailsOnAMissingCase) {
  const auto base = baseline_from(kBase);
  EXPECT_EQ(check(base, {{"single_key/hit_manual", 100.0}, {"single_key/hit_macro", 104.0}}), 1) << output_;
  EXPECT_NE(output_.find("MISSING"), std::string::npos) << output_;
}

TEST_F(GateFiles, CheckFailsOnAnInvalidBaselineValue) {
  nlohmann::json doc = baseline_json(Fingerprint{}, summarize_all({{"a", {100}}, {"b", {100}}}));
  doc["benchmarks"]["b"]["median_ns"] = 0;
  const auto base = write("doctored.json", doc);
  EXPECT_EQ(check(base, {{"a", 100.0}, {"b", 100.0}}), 1) << output_;
  EXPECT_NE(output_.find("INVALID BASELINE"), std::string::npos) << output_;
  doc["benchmarks"] = nlohmann::json::object();
  EXPECT_EQ(check(write("empty.json", doc), {{"a", 100.0}}), 1) << output_;
}

TEST_F(GateFiles, CheckComparesMediansOfSeveralRuns) {
  const auto base = baseline_from(kBase);
  const std::string tool = CHECK_BENCH_REGRESSION;
  auto scaled = [&](double f) {
    std::map<std::string, double> m;
    for (const auto& [k, v] : kBase) m[k] = v * f;
    return m;
  };
  const auto a = write("a.json", run_doc(scaled(1.0)));
  const auto b = write("b.json", run_doc(scaled(3.0)));  // one outlier run
  const auto c = write("c.json", run_doc(scaled(1.05)));
  EXPECT_EQ(run(tool + " --baseline " + base + " " + a + " " + b + " " + c), 0) << output_;
  // A baseline-format file is accepted as the current side too.
  EXPECT_EQ(run(tool + " --baseline " + base + " " + base), 0) << output_;
}

TEST_F(GateFiles, CheckArgumentErrorsExitTwo) {
  const auto base = baseline_from(kBase);
  const auto now = write("now.json", run_doc(kBase));
  const std::string tool = CHECK_BENCH_REGRESSION;
  EXPECT_EQ(run(tool + " --baseline " + base + " --threshold abc " + now), 2) << output_;
  EXPECT_NE(output_.find("invalid --threshold value: abc"), std::string::npos) << output_;
  EXPECT_EQ(run(tool + " --baseline " + base + " --threshold -0.1 " + now), 2) << output_;
  EXPECT_EQ(run(tool + " --baseline " + base + " --threshold nan " + now), 2) << output_;
  EXPECT_EQ(run(tool + " --baseline " + base + " --threshold " + now), 2) << output_;
  EXPECT_EQ(run(tool + " --baseline " + base + " --bogus " + now), 2) << output_;
  EXPECT_EQ(run(tool + " --baseline " + base), 2) << output_;  // no current results
  EXPECT_EQ(run(tool + " -h"), 0) << output_;
  // Bad input (not arguments) is exit 1.
  EXPECT_EQ(run(tool + " --baseline " + (dir_ / "absent.json").string() + " " + now), 1) << output_;
  EXPECT_EQ(run(tool + " --baseline " + base + " " + write_text("junk.json", "[1, 2")), 1) << output_;
}

}  // namespace
}  // namespace accelerator::tools
