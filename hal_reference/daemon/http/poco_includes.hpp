// The Poco headers latchkey_http uses, in one place. CMake adds Poco's include
// directory as a SYSTEM one, so its old-style casts do not trip our warnings.
#ifndef LATCHKEY_HTTP_POCO_INCLUDES_HPP
#define LATCHKEY_HTTP_POCO_INCLUDES_HPP

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/MediaType.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#endif  // LATCHKEY_HTTP_POCO_INCLUDES_HPP
