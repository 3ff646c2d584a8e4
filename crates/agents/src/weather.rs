//! WeatherAnalysisAgent.
