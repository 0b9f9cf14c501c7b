// Runs the applicable cases against a Subject with GoogleTest underneath:
// one registered test per case and instance, a listener that prints progress
// and collects each verdict into the report.
#ifndef LATCHKEY_CERTIFY_RUNNER_HPP
#define LATCHKEY_CERTIFY_RUNNER_HPP

#include "suite.hpp"

#include "latchkey/certification.pb.h"

#include <string>

namespace latchkey::certify {

// Fills report.cases and report.summary. filter selects case IDs (empty: all).
void run_cases(Subject& subject, const std::string& filter, bool quiet, certification::v1::CertificationReport& report);
bool case_selected(const std::string& id, const std::string& filter);

}  // namespace latchkey::certify

#endif  // LATCHKEY_CERTIFY_RUNNER_HPP
