Graz (Sample News) -- The new market in Graz opened on Monday after 39 months of work.

Mayor Emil said the market would serve the whole region

"We waited a long time for this," Emil told reporters.

About 390 people attended the opening ceremony.

@highlight

New market opens in Graz after 39 months

@highlight

Mayor Emil says it will serve the region
