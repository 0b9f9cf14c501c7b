// The API's route table as data, for its description (docs/openapi.json)
// and the test that keeps the two in step.
#ifndef LATCHKEY_HTTP_API_ROUTES_HPP
#define LATCHKEY_HTTP_API_ROUTES_HPP

#include <string>
#include <vector>

namespace latchkey::hub::http {

struct ApiRoute {
  std::string method;        // "GET", "POST"
  std::string path;          // "/v1/doors/{door}/unlock"
  bool test_control = false; // served only with [hub] test_control = true
};

// Every route latchkeyd serves under /v1, in the order it matches them.
std::vector<ApiRoute> api_routes();

}  // namespace latchkey::hub::http

#endif  // LATCHKEY_HTTP_API_ROUTES_HPP
