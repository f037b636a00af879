Hanoi (Sample News) -- The new station in Hanoi opened on Monday after 27 months of work.

Mayor Luca said the station would serve the whole region

"We waited a long time for this," Luca told reporters.

About 270 people attended the opening ceremony.

@highlight

New station opens in Hanoi after 27 months

@highlight

Mayor Luca says it will serve the region
